CREATE TABLE "ai_run_messages" (
	"run_id" text NOT NULL,
	"idx" integer NOT NULL,
	"message" jsonb NOT NULL,
	CONSTRAINT "ai_run_messages_run_id_idx_pk" PRIMARY KEY("run_id","idx")
);
--> statement-breakpoint
ALTER TABLE "ai_run_messages" ADD CONSTRAINT "ai_run_messages_run_id_ai_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."ai_runs"("id") ON DELETE cascade ON UPDATE no action;