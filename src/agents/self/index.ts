/** The `self` agent and DGM mode: a node's own agent program, evaluated on task suites and run on itself. */
export { evaluateAgentOnTask, gradePatch, type EvaluateAgentRequest } from './evaluate.js';
export { gradeTree, type TreeGrade } from './grade.js';
export { gradeTask, checkTask, taskValidator, baseProblem, referenceChanges, solutionChanges, type Candidate, type GradeTaskRequest, type TaskCheck } from './check.js';
export { runAgentProgram, parseRunnerResult, type AgentLlm, type AgentProgramRequest, type AgentProgramResult } from './program.js';
export { openSocketBridge, dockerWithReadOnlyBind, agentDockerSandbox, type SocketBridge } from './bridge.js';
export { agentTemplateFiles, seedAgentDir } from './template.js';
export { RUNNER_SOURCE, RUNNER_DIR, SOCKET_MOUNT } from './runner.js';
export { SelfAgent, createSelfAgent, diagnosisPrompt, DIAGNOSE_SYSTEM, type SelfAgentOptions } from './agent.js';
export { runDgm, dgmReport, expandAgentNode, readHeldOut, suiteOf, AGENT_PROTECTED, HELDOUT_NOTES, type DgmRunOptions, type DgmRunResult, type DgmEvent, type DgmReport, type HeldOutScore } from './dgm.js';
export { startDgmHost, type DgmHost } from './host.js';
