CREATE TABLE "missions" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"workspace_id" text,
	"workspace_name" text NOT NULL,
	"template" text NOT NULL,
	"desktop" boolean NOT NULL,
	"requirement" text NOT NULL,
	"request" jsonb NOT NULL,
	"status" text NOT NULL,
	"status_reason" text,
	"worker_conversation_id" text,
	"ttl_minutes" bigint NOT NULL,
	"expires_at" timestamp with time zone,
	"keep" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ai_conversations" ALTER COLUMN "workspace_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "missions" ADD CONSTRAINT "missions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "missions" ADD CONSTRAINT "missions_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "missions_user_idx" ON "missions" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "missions_expiry_idx" ON "missions" USING btree ("status","expires_at");