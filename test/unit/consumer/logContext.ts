/** An InvocationContext (the real @azure/functions class) whose log lines are kept for assertions. */
import { InvocationContext } from '@azure/functions';

export interface LoggedContext {
  context: InvocationContext;
  lines: { level: string; text: string }[];
  text(): string;
}

export function loggedContext(triggerMetadata: Record<string, unknown> = {}, functionName = 'test'): LoggedContext {
  const lines: { level: string; text: string }[] = [];
  const context = new InvocationContext({
    invocationId: 'test-invocation',
    functionName,
    triggerMetadata,
    logHandler: (level, ...args) => lines.push({ level, text: args.map(String).join(' ') }),
  });
  return { context, lines, text: () => lines.map((l) => `${l.level}: ${l.text}`).join('\n') };
}
