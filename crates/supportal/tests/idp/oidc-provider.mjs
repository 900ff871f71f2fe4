// A real OpenID Connect provider for the tests: oidc-provider (the OpenID-certified Node.js
// library, installed by scripts/test into target/e2e) on loopback, with one client for
// Supportal and its development login (any login name signs in; its claims come from
// ACCOUNTS, or are made from the name). Configured by the environment:
//   OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS (comma-separated).
import { generateKeyPairSync, randomUUID } from "node:crypto";
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;

const ACCOUNTS = {
  quinn: { name: "Quinn Verified", email: "quinn@example.test", customer_number: "C-1001" },
  riley: { name: "Robin Rep", email: "riley@acme.test" },
  newcomer: { name: "New Comer", email: "newcomer@acme.test" },
};

// A signing key of this process's own (a restart is a key rotation, as clients see it).
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), use: "sig", alg: "RS256" };

const provider = new Provider(issuer, {
  jwks: { keys: [signingKey] },
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID,
      client_secret: process.env.OIDC_CLIENT_SECRET,
      redirect_uris: process.env.OIDC_REDIRECT_URIS.split(","),
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  claims: {
    openid: ["sub"],
    profile: ["name"],
    email: ["email", "email_verified"],
    customer: ["customer_number"],
  },
  scopes: ["openid", "profile", "email", "customer"],
  // The claims go in the ID token itself, where Supportal reads them.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const known = ACCOUNTS[id] || { name: id, email: `${id}@example.test` };
    return {
      accountId: id,
      async claims() {
        return { sub: id, email_verified: true, ...known };
      },
    };
  },
});
// OIDC_PUBLISH_OTHER_KEY: a provider gone wrong, whose key set names a key it does not sign
// with (so that its ID tokens' key is unknown, however often the set is read).
if (process.env.OIDC_PUBLISH_OTHER_KEY) {
  const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "jwk" });
  const keys = { keys: [{ ...other, kid: randomUUID(), use: "sig", alg: "RS256" }] };
  provider.use(async (ctx, next) => {
    if (ctx.path === "/jwks") {
      ctx.type = "application/jwk-set+json";
      ctx.body = keys;
      return;
    }
    await next();
  });
}
// Plain http on loopback: the provider's cookies must not ask for https.
provider.proxy = false;
provider.listen(port, "127.0.0.1", () => console.log(`oidc-provider listening on ${issuer}`));
