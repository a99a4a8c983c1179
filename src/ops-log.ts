// Operational messages of the server itself, in the seed's style: "<name> : <sentence>".
// Information goes to stdout, problems to stderr. Never used per record.

export class OpsLog {
  constructor(readonly name: string) {}

  info(message: string): void {
    process.stdout.write(`${this.name} : ${message}\n`);
  }

  warn(message: string): void {
    process.stderr.write(`${this.name} : warning: ${message}\n`);
  }

  error(message: string): void {
    process.stderr.write(`${this.name} : error: ${message}\n`);
  }
}
