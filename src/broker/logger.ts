/** The logging surface the broker needs. The CLI passes one writing Mosquitto-style lines; embedders pass pino etc. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
