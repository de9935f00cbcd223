export { createConsoleServer, type ConsoleServerOptions } from './server/console-server';
export { RunReader, type RunSummary, type RunView, type BlockView } from './server/run-reader';
export { readPublishedRun, readOutputReports, type PublishedRun } from './server/published-map';
export { isLoopbackHost } from './server/access-token';
export { startConsole, type ConsoleOptions, type RunningConsole } from './start-console';
