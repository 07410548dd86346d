/**
 * Who answers a customer (AG-1): sticky to the agent they had, when that agent is available and
 * speaks their language; otherwise round robin among the available agents of the language
 * (agents before supervisors; a supervisor only when no agent speaks it; anyone available when
 * nobody does). Pure: the round-robin counter is read and advanced by the caller atomically.
 */
import type { Agent, Language, Roster } from './config.ts';

export function eligibleAgents(roster: Roster, language: Language): Agent[] {
  const available = roster.agents.filter((a) => a.available);
  const speaking = available.filter((a) => a.languages.includes(language));
  const agents = speaking.filter((a) => a.role === 'agent');
  return agents.length ? agents : speaking.length ? speaking : available;
}

/** The sticky agent, if they still qualify. */
export function stickyAgent(roster: Roster, language: Language, lastAgentId: string | undefined): Agent | undefined {
  if (!lastAgentId) return undefined;
  return eligibleAgents(roster, language).find((a) => a.id === lastAgentId) ?? roster.agents.find((a) => a.id === lastAgentId && a.available && a.languages.includes(language));
}

/** The agent for turn `turn` of the language's round robin. */
export function roundRobin(roster: Roster, language: Language, turn: number): Agent | undefined {
  const eligible = eligibleAgents(roster, language);
  return eligible.length ? eligible[turn % eligible.length] : undefined;
}
