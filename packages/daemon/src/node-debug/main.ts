// The Node.js debug adapter's process: the Debug Adapter Protocol on stdin/stdout. The daemon
// starts it with its own Node (`dap.open {adapter: 'node'}`); it ends when its client goes.
import { NodeDebugSession } from './session.ts';

const session = new NodeDebugSession(process.env);
process.on('exit', () => session.stopProgram());
session.start(process.stdin, process.stdout);
