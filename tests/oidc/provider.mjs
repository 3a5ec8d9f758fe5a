// A real OpenID Connect provider (panva's OpenID-certified oidc-provider) for the single sign-on
// browser tests, started by tests/e2e/test_browser_sso.py on 127.0.0.1:
//   node provider.mjs CONFIG.json
// CONFIG: {"port": 0-65535, "clients": [...oidc-provider client metadata...],
//          "accounts": {"<login>": {"email": "...", "email_verified": true|false}}}
// Its own development sign-in form takes any login (the account id) and any password; the
// account's claims come from CONFIG. As the provider ships, e-mail goes to UserInfo, not the
// ID token, and the prompts it knows are "login" and "consent" (not "select_account").
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  cookies: { keys: ['rectrack-test-cookie-key-only-for-the-test-suite'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    return {
      accountId: id,
      async claims() {
        if (!account) return { sub: id };  // an identity with no e-mail at all
        return { sub: id, name: id, email: account.email, email_verified: account.email_verified };
      },
    };
  },
});
provider.proxy = false;
const server = provider.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
