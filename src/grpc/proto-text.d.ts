// `.proto` files are imported as text (`with { type: "text" }`), so `bun build --compile` embeds them
// in the executable and nothing is read from disk at run time.
declare module "*.proto" {
  const text: string;
  export default text;
}
