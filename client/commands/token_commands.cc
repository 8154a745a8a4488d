// tokens create|revoke|list, whoami: people's tokens (the coordinator's AdminService).
#include <CLI/CLI.hpp>
#include <memory>
#include <sstream>

#include "client/commands/commands.h"
#include "client/text_table.h"

namespace cyclr::client {
namespace {

struct TokenOptions {
  std::string name;
  std::string role = "viewer";
  std::string output = "table";
};

Status Create(const CommandContext& ctx, const TokenOptions& o) {
  CYCLR_ASSIGN_OR_RETURN(v1::CreateTokenResponse r, ctx.Client().CreateToken(o.name, o.role));
  // The secret alone on stdout (for `> file`); what it is on stderr.
  *ctx.out << r.token() << "\n" << std::flush;
  *ctx.err << "cyclrctl: token " << r.info().name() << " (" << r.info().role()
           << ") created; it is shown once: keep it in a file only you can read\n";
  return Status::Ok();
}

Status List(const CommandContext& ctx, const TokenOptions& o) {
  CYCLR_ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(o.output));
  CYCLR_ASSIGN_OR_RETURN(v1::ListTokensResponse r, ctx.Client().ListTokens());
  if (format == OutputFormat::kJson) {
    *ctx.out << ToJson(r);
    return Status::Ok();
  }
  TextTable table({"NAME", "ROLE", "JOB"});
  for (const v1::TokenInfo& t : r.tokens()) table.AddRow({t.name(), t.role(), t.job()});
  *ctx.out << table.Render();
  return Status::Ok();
}

}  // namespace

void AddTokenCommands(CLI::App* app, CommandContext* ctx) {
  CLI::App* tokens = app->add_subcommand("tokens", "people's tokens (admin role)");
  tokens->require_subcommand(1);

  auto c = std::make_shared<TokenOptions>();
  CLI::App* create = tokens->add_subcommand("create", "a new token; prints its secret once");
  create->add_option("TOKEN_NAME", c->name, "its name: [a-z0-9][a-z0-9._-]{0,62}")->required();
  create->add_option("--role", c->role, "viewer (reads) | operator (launch, stop, schedules) | "
                                        "admin (tokens)")
      ->capture_default_str();
  create->callback([ctx, c] { ctx->action = [ctx, c] { return Create(*ctx, *c); }; });

  auto r = std::make_shared<TokenOptions>();
  CLI::App* revoke = tokens->add_subcommand("revoke", "refuse a token from now on");
  revoke->add_option("TOKEN_NAME", r->name, "its name")->required();
  revoke->callback([ctx, r] {
    ctx->action = [ctx, r] { return ctx->Client().RevokeToken(r->name); };
  });

  auto l = std::make_shared<TokenOptions>();
  CLI::App* list = tokens->add_subcommand("list", "names and roles (never secrets)");
  AddOutputOption(list, &l->output);
  list->callback([ctx, l] { ctx->action = [ctx, l] { return List(*ctx, *l); }; });

  CLI::App* whoami = app->add_subcommand("whoami", "the name and role of the token you send");
  whoami->callback([ctx] {
    ctx->action = [ctx] {
      CYCLR_ASSIGN_OR_RETURN(v1::TokenInfo me, ctx->Client().WhoAmI());
      *ctx->out << me.name() << " (" << me.role() << ")\n";
      return Status::Ok();
    };
  });
}

}  // namespace cyclr::client
