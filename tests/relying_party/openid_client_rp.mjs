// A relying party written with openid-client, as a platform's Node server would sign its
// users in through Latchkey. tests/test_oidc_node.py plays the browser: each step prints one
// JSON line, and the script waits on standard input for the URL the browser came back to.
//
// Environment: ISSUER, CLIENT_ID, CLIENT_SECRET (empty for a public client), REDIRECT_URI,
// POST_LOGOUT_REDIRECT_URI.
import { createInterface } from "node:readline";
import * as client from "openid-client";

const env = process.env;
const input = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (step, fields) => console.log(JSON.stringify({ step, ...fields }));
const heard = async () => (await input.next()).value;

// The issuer's discovery document; plain http only because the tests run Latchkey so.
const authentication = env.CLIENT_SECRET
  ? client.ClientSecretBasic(env.CLIENT_SECRET)
  : client.None();
const config = await client.discovery(
  new URL(env.ISSUER),
  env.CLIENT_ID,
  undefined,
  authentication,
  { execute: [client.allowInsecureRequests] },
);

const verifier = client.randomPKCECodeVerifier();
const nonce = client.randomNonce();
const state = client.randomState();
const authorize = client.buildAuthorizationUrl(config, {
  redirect_uri: env.REDIRECT_URI,
  scope: "openid profile email",
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: "S256",
  nonce,
  state,
});
say("authorize", { url: authorize.href });

// The code exchanged; the ID token's signature, issuer, audience, expiry and nonce checked.
const tokens = await client.authorizationCodeGrant(config, new URL(await heard()), {
  pkceCodeVerifier: verifier,
  expectedNonce: nonce,
  expectedState: state,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
say("signed_in", { claims, userinfo });

// RP-initiated logout: the user signs out of the platform and of Latchkey at once.
const logoutState = client.randomState();
const logout = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: env.POST_LOGOUT_REDIRECT_URI,
  state: logoutState,
});
say("logout", { url: logout.href, state: logoutState });
process.exit(0); // standard input stays open
