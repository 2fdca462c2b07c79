ALTER TABLE "ai_mcp_servers" ALTER COLUMN "owner_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_mcp_servers" ADD COLUMN "team_id" text;--> statement-breakpoint
ALTER TABLE "ai_mcp_servers" ADD CONSTRAINT "ai_mcp_servers_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ai_mcp_servers_team_name_idx" ON "ai_mcp_servers" USING btree ("team_id","name");--> statement-breakpoint
ALTER TABLE "ai_mcp_servers" ADD CONSTRAINT "ai_mcp_servers_one_owner" CHECK (("ai_mcp_servers"."owner_id" is null) <> ("ai_mcp_servers"."team_id" is null));