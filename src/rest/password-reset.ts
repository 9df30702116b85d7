// Password reset by mail: GET /users/password/reset.json?email= (QuickBlox's call, 200 with an
// empty body) mails a one-time link to a small page Parley serves, where the user sets a new
// password. Only a digest of the link's token is stored; it works once, for password_reset_ttl.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../chat/errors.js';
import { createMailer, type Mailer } from '../mail/mailer.js';
import { sessionOf, type RestDeps } from './context.js';
import { requestParams, stringParam } from './params.js';

export const RESET_PATH = '/users/password/reset';
const MIN_PASSWORD = 8;
const MAX_PASSWORD = 128;
const MAX_EMAIL = 255;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .code(status)
    .headers({
      'content-type': 'text/html; charset=utf-8',
      // The token is in the URL: never cache the page or leak it to another site.
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    })
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>`
      + '<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem}button{margin-top:1rem;padding:.5rem 1rem}.error{color:#b00}</style>'
      + `</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
}

function form(error?: string): string {
  return `${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}<form method="post">`
    + `<label for="password">New password</label><input id="password" name="password" type="password" minlength="${MIN_PASSWORD}" maxlength="${MAX_PASSWORD}" required autocomplete="new-password">`
    + `<label for="confirmation">Repeat it</label><input id="confirmation" name="password_confirmation" type="password" required autocomplete="new-password">`
    + '<button type="submit">Set password</button></form>';
}

function baseUrl(req: FastifyRequest, deps: RestDeps): string {
  const configured = deps.config.public_api_url?.replace(/\/+$/, '');
  if (configured) return /^https?:\/\//.test(configured) ? configured : `https://${configured}`;
  return `${req.protocol}://${req.host}`;
}

export async function passwordResetRoutes(app: FastifyInstance, deps: RestDeps, mailer: Mailer | null = createMailer(deps.config)): Promise<void> {
  const now = () => (deps.now ? deps.now() : new Date());
  if (mailer) app.addHook('onClose', async () => mailer.close());

  app.get('/users/password/reset.json', { config: { auth: 'session' } }, async (req, reply) => {
    const email = stringParam(requestParams(req), 'email')?.trim();
    if (!email) throw new ApiError('invalidField', "can't be blank", 'email');
    if (email.length > MAX_EMAIL) throw new ApiError('invalidField', 'is invalid', 'email');
    const appId = sessionOf(req).appId;
    const user = await deps.store.accounts.getUserBy(appId, 'email', email);
    if (!user || !user.email) throw new ApiError('notFound');
    if (!mailer) throw new ApiError('invalid', 'Password reset by mail is not enabled on this server');
    const application = await deps.store.accounts.getApplication(appId);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now().getTime() + deps.config.password_reset_ttl * 1000);
    await deps.store.passwordResets.createReset({ tokenHash: hashToken(token), appId, userId: user.id, expiresAt });
    const link = `${baseUrl(req, deps)}${RESET_PATH}/${token}`;
    const minutes = Math.max(1, Math.round(deps.config.password_reset_ttl / 60));
    const appName = application?.name ?? 'your application';
    try {
      await mailer.send({
        to: user.email,
        subject: `Reset your ${appName} password`,
        text: `Someone asked to reset the password of ${user.login} in ${appName}.\n\nTo choose a new one, open this link within ${minutes} minutes (it works once):\n${link}\n\nIf it was not you, ignore this mail: your password stays as it is.\n`,
        html: `<p>Someone asked to reset the password of <b>${escapeHtml(user.login)}</b> in ${escapeHtml(appName)}.</p><p><a href="${escapeHtml(link)}">Choose a new password</a> within ${minutes} minutes (the link works once).</p><p>If it was not you, ignore this mail: your password stays as it is.</p>`,
      });
    } catch (err) {
      deps.log.error({ err: { message: (err as Error).message, code: (err as { code?: unknown }).code } }, 'password reset mail failed');
      throw new ApiError('internal');
    }
    return reply.code(200).send();
  });

  type Token = { Params: { token: string } };
  const live = async (token: string) => (TOKEN.test(token) ? deps.store.passwordResets.findLiveReset(hashToken(token), now()) : null);
  const gone = (reply: FastifyReply) => page(reply, 404, 'Link expired', '<p>This link has expired or has already been used. Ask the app for a new one.</p>');

  app.get<Token>(`${RESET_PATH}/:token`, { config: { auth: 'none' } }, async (req, reply) =>
    (await live(req.params.token)) ? page(reply, 200, 'Choose a new password', form()) : gone(reply));

  app.post<Token>(`${RESET_PATH}/:token`, { config: { auth: 'none' } }, async (req, reply) => {
    if (!(await live(req.params.token))) return gone(reply);
    const params = requestParams(req);
    const password = stringParam(params, 'password') ?? '';
    const confirmation = stringParam(params, 'password_confirmation') ?? '';
    if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
      return page(reply, 422, 'Choose a new password', form(`The password must have ${MIN_PASSWORD} to ${MAX_PASSWORD} characters.`));
    }
    if (password !== confirmation) return page(reply, 422, 'Choose a new password', form('The two passwords differ.'));
    const reset = await deps.store.passwordResets.consumeReset(hashToken(req.params.token), now());
    if (!reset) return gone(reply);
    // Through the accounts service when there is one: the user's REST tokens end with the old password.
    if (deps.accounts) await deps.accounts.changePassword(reset.appId, reset.userId, password);
    else await deps.store.accounts.setPassword(reset.appId, reset.userId, password);
    return page(reply, 200, 'Password changed', '<p>Your password has been changed. You can sign in with it now.</p>');
  });
}
