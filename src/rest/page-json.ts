// A list page's response body, written from the JSON its items already got when the page was
// measured against its byte budget (chat/limits.ts itemJsonBytes): the same bytes as serialising the
// whole page again, at half the cost.
import type { FastifyReply } from 'fastify';
import { itemJson } from '../chat/limits.js';

/** JSON.stringify(page) for a page whose `items` (an array of objects) is its last key. */
export function pageJson(page: { items: object[] }): string {
  const keys = Object.keys(page);
  if (keys[keys.length - 1] !== 'items') return JSON.stringify(page);
  const empty = JSON.stringify({ ...page, items: [] }); // …,"items":[]}
  return `${empty.slice(0, -2)}${page.items.map(itemJson).join(',')}]}`;
}

/** Sends a list answer; one without an items array (a count) goes the usual way. */
export function sendPage(reply: FastifyReply, answer: unknown): unknown {
  const items = (answer as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return answer;
  return reply.type('application/json; charset=utf-8').send(pageJson(answer as { items: object[] }));
}
