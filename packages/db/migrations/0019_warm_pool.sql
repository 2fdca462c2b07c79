CREATE TABLE "warm_workspaces" (
	"id" text PRIMARY KEY NOT NULL,
	"template_name" text NOT NULL,
	"recipe" text NOT NULL,
	"status" text DEFAULT 'warming' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "templates" ADD COLUMN "warm_pool" integer;--> statement-breakpoint
CREATE INDEX "warm_workspaces_template_idx" ON "warm_workspaces" USING btree ("template_name","status");