import { v } from 'convex/values';
import { mutation, query } from './_generated/server';

/** The latest messages, newest last; every page showing them updates when one is sent. */
export const list = query({
  args: {},
  handler: async (ctx) => (await ctx.db.query('messages').order('desc').take(50)).reverse(),
});

/** Sends a message. */
export const send = mutation({
  args: { author: v.string(), body: v.string() },
  handler: async (ctx, { author, body }) => {
    if (!body.trim()) throw new Error('A message needs some text');
    await ctx.db.insert('messages', { author, body: body.trim() });
  },
});
