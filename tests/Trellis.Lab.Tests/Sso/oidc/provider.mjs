// A real OpenID provider for the SSO lab tests: oidc-provider with its development login form.
// Usage: node provider.mjs CONFIG.json, where the file holds
// { "issuer", "port", "clientId", "clientSecret", "redirectUri", "groupsClaim", "users": { LOGIN: { "email", "groups" } } }.
// Prints "listening" once it accepts connections.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const configFile = process.argv[2];
const config = JSON.parse(readFileSync(configFile, 'utf8'));
const groupsClaim = config.groupsClaim ?? 'groups';

const provider = new Provider(config.issuer, {
  clients: [{
    client_id: config.clientId,
    client_secret: config.clientSecret,
    redirect_uris: [config.redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: [groupsClaim],
  },
  // The ID token carries the scopes' claims, as most providers' do (the server reads them there).
  conformIdTokenClaims: false,
  cookies: { keys: ['trellis-lab-cookie-key'] },
  // Sign-in only, no consent page: the grant covers whatever the client asked for.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    grant.addOIDCClaims(Object.values(ctx.oidc.provider.Claims ?? {}));
    await grant.save();
    return grant;
  },
  // The people are read at each sign-in, so a test can change someone's groups between two.
  async findAccount(ctx, id) {
    const user = JSON.parse(readFileSync(configFile, 'utf8')).users[id];
    if (!user) {
      return undefined;
    }

    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: user.email,
          email_verified: true,
          name: id,
          preferred_username: id,
          [groupsClaim]: user.groups ?? [],
        };
      },
    };
  },
});

provider.listen(config.port, '127.0.0.1', () => console.log('listening'));
