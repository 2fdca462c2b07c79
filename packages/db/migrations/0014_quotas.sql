CREATE TABLE "quotas" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text,
	"team_id" text,
	"running_workspaces" integer,
	"cpus" double precision,
	"memory_mib" integer,
	"disk_mib" integer,
	"ai_usd_per_month" double precision,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_samples" (
	"subject_kind" text NOT NULL,
	"subject_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"running_workspaces" integer NOT NULL,
	"cpus" double precision NOT NULL,
	"memory_mib" integer NOT NULL,
	"disk_mib" integer NOT NULL,
	"ai_usd" double precision NOT NULL,
	CONSTRAINT "usage_samples_subject_kind_subject_id_at_pk" PRIMARY KEY("subject_kind","subject_id","at")
);
--> statement-breakpoint
ALTER TABLE "quotas" ADD CONSTRAINT "quotas_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quotas" ADD CONSTRAINT "quotas_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "quotas_user_idx" ON "quotas" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "quotas_team_idx" ON "quotas" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "usage_samples_at_idx" ON "usage_samples" USING btree ("at");