// Operational messages of the server itself, in the seed's style: "<name> : <sentence>".
// Information goes to stdout, problems to stderr. Never used per record.

/** A closed stdout/stderr (EPIPE: the process that read them went away) must never stop the server. */
function emit(stream: NodeJS.WriteStream, line: string): void {
  try {
    stream.write(line);
  } catch {
    // Nowhere left to report to; the log file is what matters.
  }
}
process.stdout.on?.("error", () => {});
process.stderr.on?.("error", () => {});

export class OpsLog {
  constructor(readonly name: string) {}

  info(message: string): void {
    emit(process.stdout, `${this.name} : ${message}\n`);
  }

  warn(message: string): void {
    emit(process.stderr, `${this.name} : warning: ${message}\n`);
  }

  error(message: string): void {
    emit(process.stderr, `${this.name} : error: ${message}\n`);
  }
}
