import type { ChatLimits } from '../chat/limits.js';
import type { Config } from './types.js';

/** The chat size limits a configuration sets. */
export const chatLimits = (config: Config): ChatLimits => ({
  messageTextMax: config.message_max_length,
  customMaxBytes: config.message_custom_max_bytes,
  pageMaxBytes: config.rest_page_max_bytes,
});
