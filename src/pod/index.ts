/**
 * src/pod — the running pod: startPod wires home, store, HTTP and sync into one process, with
 * its metrics and the home's admin socket. The only layer that imports all the others.
 */
export { startPod, type Pod, type StartPodOptions } from './start-pod'
