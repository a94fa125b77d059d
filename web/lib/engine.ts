// The one build engine of the page: a module Web Worker reached through the typed client.
import { Engine } from '../../workers/client.ts';
import EngineWorker from '../../workers/worker.ts?worker';

export const engine = new Engine(new EngineWorker());
