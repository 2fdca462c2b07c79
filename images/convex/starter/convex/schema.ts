import { defineSchema, defineTable } from 'convex/server';
import { v } from 'convex/values';

/** The app's tables: messages, each with its author and text. */
export default defineSchema({
  messages: defineTable({ author: v.string(), body: v.string() }),
});
