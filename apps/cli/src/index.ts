export { main } from './main';
export { runPipeline } from './run-pipeline';
