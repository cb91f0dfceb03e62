import { isObject, parseObject } from '../core/json-value.js';
import { contentText } from '../core/llm-input.js';

/** One message of an LLM call as the inspector shows it. */
export interface ConversationMessage {
  readonly role: string;
  readonly text: string;
  /** Tool calls the assistant asked for, as sent. */
  readonly tool_calls?: unknown;
  /** Why the model stopped (the answer's `finish_reason`). */
  readonly finish_reason?: string;
}

/**
 * The conversation of a chat or completions call: the messages (or prompt) sent, then the
 * answer's choices; null for a request that is neither. A captured stream holds the answer
 * assembled, so it reads the same.
 */
export function conversationOf(request: string | null, response: string | null): ConversationMessage[] | null {
  const sent = parseObject(request);
  if (!sent) return null;
  const out: ConversationMessage[] = [];
  if (Array.isArray(sent.messages)) {
    for (const m of sent.messages) if (isObject(m)) out.push({ role: String(m.role ?? '?'), text: contentText(m.content), ...(m.tool_calls ? { tool_calls: m.tool_calls } : {}) });
  } else if (typeof sent.prompt === 'string' || Array.isArray(sent.prompt)) {
    out.push({ role: 'prompt', text: typeof sent.prompt === 'string' ? sent.prompt : sent.prompt.map(String).join('\n') });
  } else return null;
  const answer = parseObject(response);
  for (const c of Array.isArray(answer?.choices) ? answer.choices : []) {
    if (!isObject(c)) continue;
    const finish = typeof c.finish_reason === 'string' ? { finish_reason: c.finish_reason } : {};
    if (isObject(c.message)) out.push({ role: String(c.message.role ?? 'assistant'), text: contentText(c.message.content), ...(c.message.tool_calls ? { tool_calls: c.message.tool_calls } : {}), ...finish });
    else if (typeof c.text === 'string') out.push({ role: 'completion', text: c.text, ...finish });
  }
  return out;
}
