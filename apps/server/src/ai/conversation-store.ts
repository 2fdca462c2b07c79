import { randomUUID } from 'node:crypto';
import { schema, type Database } from '@studio/db';
import type { AiMode, ChatMessage, ContextItem, Conversation, MessagePart } from '@studio/protocol';
import { and, asc, desc, eq, isNull } from 'drizzle-orm';
import { AppError } from '../errors.ts';

const { aiConversations, aiMessages } = schema;
type ConversationRow = typeof aiConversations.$inferSelect;

/** In a workspace, or `null`: Mission Control's conversations with the main agent. */
type Scope = string | null;

function inScope(workspaceId: Scope) {
  return workspaceId === null
    ? isNull(aiConversations.workspaceId)
    : eq(aiConversations.workspaceId, workspaceId);
}

/** Conversations and their messages, per person and workspace (or none). */
export class ConversationStore {
  constructor(private readonly db: Database) {}

  async list(userId: string, workspaceId: Scope): Promise<ConversationRow[]> {
    return this.db
      .select()
      .from(aiConversations)
      .where(and(eq(aiConversations.userId, userId), inScope(workspaceId)))
      .orderBy(desc(aiConversations.updatedAt));
  }

  async create(userId: string, workspaceId: Scope, title: string): Promise<ConversationRow> {
    const [row] = await this.db
      .insert(aiConversations)
      .values({ id: randomUUID(), userId, workspaceId, title })
      .returning();
    return row!;
  }

  /** The person's conversation in that workspace (or none); anyone else's is `not_found`. */
  async get(userId: string, workspaceId: Scope, id: string): Promise<ConversationRow> {
    const [row] = await this.db
      .select()
      .from(aiConversations)
      .where(
        and(eq(aiConversations.id, id), eq(aiConversations.userId, userId), inScope(workspaceId)),
      );
    if (!row) throw new AppError('not_found', `no conversation ${id}`);
    return row;
  }

  async rename(row: ConversationRow, title: string): Promise<ConversationRow> {
    const [updated] = await this.db
      .update(aiConversations)
      .set({ title })
      .where(eq(aiConversations.id, row.id))
      .returning();
    return updated!;
  }

  async remove(row: ConversationRow): Promise<void> {
    await this.db.delete(aiConversations).where(eq(aiConversations.id, row.id));
  }

  async messages(conversationId: string): Promise<ChatMessage[]> {
    const rows = await this.db
      .select()
      .from(aiMessages)
      .where(eq(aiMessages.conversationId, conversationId))
      .orderBy(asc(aiMessages.createdAt), asc(aiMessages.id));
    return rows.map((row) => ({
      id: row.id,
      role: row.role,
      mode: row.mode,
      parts: row.parts as MessagePart[],
      context: row.context as ContextItem[],
      createdAt: row.createdAt.toISOString(),
    }));
  }

  /** Appends a message and marks the conversation as just used. */
  async append(
    conversationId: string,
    message: {
      id?: string;
      role: 'user' | 'assistant';
      mode: AiMode;
      parts: MessagePart[];
      context?: ContextItem[];
    },
    at = new Date(),
  ): Promise<ChatMessage> {
    const id = message.id ?? randomUUID();
    const context = message.context ?? [];
    await this.db.insert(aiMessages).values({
      id,
      conversationId,
      role: message.role,
      mode: message.mode,
      parts: message.parts,
      context,
      createdAt: at,
    });
    await this.db
      .update(aiConversations)
      .set({ updatedAt: at })
      .where(eq(aiConversations.id, conversationId));
    return {
      id,
      role: message.role,
      mode: message.mode,
      parts: message.parts,
      context,
      createdAt: at.toISOString(),
    };
  }
}

/** A conversation as the API shows it. */
export function conversationView(row: ConversationRow, activeRunId: string | null): Conversation {
  return {
    id: row.id,
    title: row.title,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    activeRunId,
  };
}
