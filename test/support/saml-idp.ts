/**
 * Test support: a real SAML 2.0 identity provider run here as processes. SimpleSAMLphp 1.19 from Debian's
 * package, served by apache2 with mod_php from Debian on a random loopback port, configured in a private
 * folder (SIMPLESAMLPHP_CONFIG_DIR): exampleauth:UserPass users with attributes (uid, mail, groups), an
 * AuthnContextClassRef per user, a fresh IdP key and certificate (openssl), and the service providers it
 * knows (saml20-sp-remote). Users and SPs are JSON files the PHP config reads on every request, so a test
 * can change an SP (stop signing, shorten the assertion lifetime) without a restart.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandWorks } from './requires.js';
import { freePort } from './free-port.js';

const SSP_WWW = '/usr/share/simplesamlphp/www';
const MOD_PHP = '/usr/lib/apache2/modules/libphp8.2.so';
const MODULES = '/usr/lib/apache2/modules';

/**
 * True when SimpleSAMLphp, apache2 with mod_php, PHP's DOM and mbstring extensions for mod_php (php-xml,
 * php-mbstring: SimpleSAMLphp's package only recommends them) and openssl are installed. Looked up as
 * files: the PHP command line is not needed and may be absent.
 */
export const samlIdpAvailable =
  existsSync(SSP_WWW) &&
  existsSync(MOD_PHP) &&
  ['20-dom.ini', '20-mbstring.ini'].every((f) => existsSync(`/etc/php/8.2/apache2/conf.d/${f}`)) &&
  commandWorks('apache2', ['-v']) &&
  commandWorks('openssl', ['version']);

/** How to install what the IdP needs (for describeIf). */
export const SAML_IDP_HOW = 'apt-get install -y simplesamlphp apache2 libapache2-mod-php php-xml php-mbstring openssl (see .ci/run)';

/** SAML's AuthnContextClassRef values the tests use. */
export const AC = {
  password: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
  mfa: 'https://refeds.org/profile/mfa',
} as const;

/** A user of the IdP's login form. */
export interface SamlIdpUser {
  username: string;
  password: string;
  /** Attributes released to every SP (each a list of values), e.g. { mail: [...], groups: [...] }. */
  attributes: Record<string, string[]>;
  /** The AuthnContextClassRef asserted for this user (default PasswordProtectedTransport). */
  authnContext?: string;
}

/** A service provider the IdP knows (one saml20-sp-remote entry). */
export interface SamlIdpSp {
  entityId: string;
  acsUrl: string;
  /** Sign the assertion (default true) and/or the whole response (default true). */
  signAssertion?: boolean;
  signResponse?: boolean;
  /** Seconds the assertion is valid (default 300; negative: already expired when issued). */
  assertionLifetimeS?: number;
  /** Extra audiences besides the SP's entity ID. */
  audience?: string[];
  /** The SP's single logout return (HTTP-Redirect); without it the IdP does no SLO with this SP. */
  sloUrl?: string;
}

/** A running IdP. */
export interface SamlIdp {
  /** http://127.0.0.1:PORT/simplesaml/ */
  baseUrl: string;
  /** The IdP's entity ID (its metadata URL). */
  entityId: string;
  /** Single sign-on endpoint (HTTP-Redirect and HTTP-POST bindings). */
  ssoUrl: string;
  /** The IdP's signing certificate (PEM, the current one) and its file. */
  readonly certPem: string;
  certFile: string;
  /** The IdP's SAML metadata (XML), as served. */
  metadata(): Promise<string>;
  /** Replaces the SPs the IdP knows (read on the next request). */
  setSps(sps: SamlIdpSp[]): void;
  /** Signs with a new key and certificate from the next request on; returns the new certificate (PEM). */
  rotateKey(): string;
  /** Apache's and SimpleSAMLphp's logs, for failure messages. */
  logs(): string;
  close(): Promise<void>;
}

const php = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function configPhp(dir: string, baseUrl: string): string {
  return `<?php
$config = [
  'baseurlpath' => ${php(baseUrl)},
  'certdir' => ${php(`${dir}/cert/`)},
  'metadatadir' => ${php(`${dir}/metadata/`)},
  'tempdir' => ${php(`${dir}/tmp`)},
  'loggingdir' => ${php(`${dir}/log/`)},
  'logging.handler' => 'file',
  'logging.level' => SimpleSAML\\Logger::INFO,
  'secretsalt' => ${php(`test-salt-${Math.random().toString(36).slice(2)}${Date.now()}`)},
  'auth.adminpassword' => ${php(`unused-${Math.random().toString(36).slice(2)}`)},
  'admin.protectindexpage' => true,
  'admin.protectmetadata' => false,
  'technicalcontact_name' => 'FoundryCloud tests',
  'technicalcontact_email' => 'tests@foundry.invalid',
  'timezone' => 'UTC',
  'enable.saml20-idp' => true,
  'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
  'store.type' => 'phpsession',
  'session.phpsession.savepath' => ${php(`${dir}/sessions`)},
  'session.cookie.name' => 'TestIdpSession',
  'session.phpsession.cookiename' => 'TestIdpPhpSession',
  'metadata.sources' => [['type' => 'flatfile']],
];
`;
}

// The users' AuthnContextClassRef travels as a pseudo-attribute that an authproc filter moves into the
// SAML state (where the IdP takes it from) and removes from the released attributes.
const AUTHSOURCES_PHP = `<?php
$users = json_decode(file_get_contents(__DIR__ . '/users.json'), true);
$source = ['exampleauth:UserPass'];
foreach ($users as $u) {
  $source[$u['username'] . ':' . $u['password']] = $u['attributes'] + ['_acr' => [$u['authnContext']]];
}
$config = ['admin' => ['core:AdminPassword'], 'test-users' => $source];
`;

const IDP_HOSTED_PHP = `<?php
$metadata['__DYNAMIC:1__'] = [
  'host' => '__DEFAULT__',
  'privatekey' => 'idp.key',
  'certificate' => 'idp.crt',
  'auth' => 'test-users',
  'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'authproc' => [
    10 => ['class' => 'core:PHP', 'code' => '$state["saml:AuthnContextClassRef"] = $attributes["_acr"][0]; unset($attributes["_acr"]);'],
  ],
];
`;

const SP_REMOTE_PHP = `<?php
foreach (json_decode(file_get_contents(__DIR__ . '/../config/sps.json'), true) as $sp) {
  $metadata[$sp['entityId']] = [
    'AssertionConsumerService' => [['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'Location' => $sp['acsUrl'], 'index' => 0]],
    'saml20.sign.assertion' => $sp['signAssertion'] ?? true,
    'saml20.sign.response' => $sp['signResponse'] ?? true,
    'assertion.lifetime' => $sp['assertionLifetimeS'] ?? 300,
    'audience' => $sp['audience'] ?? [],
    'SingleLogoutService' => isset($sp['sloUrl']) ? [['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', 'Location' => $sp['sloUrl']]] : [],
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'simplesaml.nameidattribute' => 'uid',
  ];
}
`;

function httpdConf(dir: string, port: number, configDir: string, asRoot: boolean): string {
  const load = (name: string, file: string) => `LoadModule ${name} ${MODULES}/${file}`;
  return [
    'ServerRoot /etc/apache2',
    'ServerName 127.0.0.1',
    `Listen 127.0.0.1:${port}`,
    `PidFile ${dir}/run/httpd.pid`,
    `Mutex file:${dir}/run`,
    `DefaultRuntimeDir ${dir}/run`,
    `ErrorLog ${dir}/log/error.log`,
    'LogLevel warn',
    // apache refuses to serve as root: started as root it switches to www-data, which reads the config dir
    ...(asRoot ? ['User www-data', 'Group www-data'] : []),
    load('mpm_prefork_module', 'mod_mpm_prefork.so'),
    load('authz_core_module', 'mod_authz_core.so'),
    load('alias_module', 'mod_alias.so'),
    load('env_module', 'mod_env.so'),
    load('mime_module', 'mod_mime.so'),
    load('dir_module', 'mod_dir.so'),
    `LoadModule php_module ${MOD_PHP}`,
    'TypesConfig /etc/mime.types',
    'StartServers 2',
    'MinSpareServers 1',
    'MaxSpareServers 4',
    `DocumentRoot ${SSP_WWW}`,
    `SetEnv SIMPLESAMLPHP_CONFIG_DIR ${configDir}`,
    `Alias /simplesaml ${SSP_WWW}`,
    `<Directory ${SSP_WWW}>`,
    '  Require all granted',
    '  DirectoryIndex index.php',
    '</Directory>',
    '<FilesMatch "\\.php$">',
    '  SetHandler application/x-httpd-php',
    '</FilesMatch>',
    '',
  ].join('\n');
}

async function waitForMetadata(url: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`apache2 exited with ${child.exitCode}: ${logs()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (res.ok) return;
      if (Date.now() > deadline) throw new Error(`IdP metadata answered ${res.status}: ${(await res.text()).slice(0, 500)} ${logs()}`);
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`IdP did not answer at ${url}: ${err instanceof Error ? err.message : String(err)} ${logs()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts SimpleSAMLphp under apache2 with `users` and `sps`, in a private temp folder of its own (apache's
 * user must reach it, so it is not under the test's 0700 folder); close() stops apache and removes it.
 */
export async function startSamlIdp(users: SamlIdpUser[], sps: SamlIdpSp[]): Promise<SamlIdp> {
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'foundry-saml-idp-'));
  const configDir = join(dir, 'config');
  for (const d of ['config', 'metadata', 'cert', 'tmp', 'log', 'sessions', 'run']) mkdirSync(join(dir, d), { recursive: true });
  const key = join(dir, 'cert', 'idp.key');
  const certFile = join(dir, 'cert', 'idp.crt');
  const newKey = (): string => {
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', certFile, '-days', '2', '-subj', '/CN=foundry-test-idp'], { encoding: 'utf8' });
    if (gen.status !== 0) throw new Error(`openssl: ${gen.stderr}`);
    if (asRoot) for (const f of [key, certFile]) chmodSync(f, 0o644);
    return readFileSync(certFile, 'utf8');
  };
  newKey();
  writeFileSync(join(configDir, 'users.json'), JSON.stringify(users.map((u) => ({ ...u, authnContext: u.authnContext ?? AC.password }))));
  const writeSps = (list: SamlIdpSp[]) => writeFileSync(join(configDir, 'sps.json'), JSON.stringify(list));
  writeSps(sps);
  writeFileSync(join(configDir, 'authsources.php'), AUTHSOURCES_PHP);
  writeFileSync(join(dir, 'metadata', 'saml20-idp-hosted.php'), IDP_HOSTED_PHP);
  writeFileSync(join(dir, 'metadata', 'saml20-sp-remote.php'), SP_REMOTE_PHP);
  if (asRoot) {
    // www-data must read the folder (a test key, made for this run) and write its temp, log and session dirs
    chmodSync(dir, 0o755);
    for (const d of ['config', 'metadata', 'cert', 'run']) chmodSync(join(dir, d), 0o755);
    for (const f of ['users.json', 'sps.json', 'authsources.php'].map((f) => join(configDir, f))) chmodSync(f, 0o644);
    const www = spawnSync('id', ['-u', 'www-data'], { encoding: 'utf8' });
    const uid = Number(www.stdout.trim());
    for (const d of ['tmp', 'log', 'sessions']) chownSync(join(dir, d), uid, uid);
  }

  const logs = () =>
    ['log/error.log', 'log/simplesamlphp.log']
      .map((f) => join(dir, f))
      .filter((f) => existsSync(f))
      .map((f) => `--- ${f}\n${readFileSync(f, 'utf8').slice(-4000)}`)
      .join('\n');
  let lastErr: unknown;
  // A port picked free may be taken before apache binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}/simplesaml/`;
    writeFileSync(join(configDir, 'config.php'), configPhp(dir, baseUrl));
    if (asRoot) chmodSync(join(configDir, 'config.php'), 0o644);
    writeFileSync(join(dir, 'httpd.conf'), httpdConf(dir, port, configDir, asRoot));
    // Its own process group: prefork's shutdown signals its whole group, which would otherwise be ours.
    const child = spawn('apache2', ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, APACHE_LOG_DIR: join(dir, 'log') } });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    // Detached, it would outlive a test run that dies without close(): stop it when this process exits.
    const onExit = () => child.kill('SIGTERM');
    process.once('exit', onExit);
    child.once('exit', () => process.removeListener('exit', onExit));
    const entityId = `${baseUrl}saml2/idp/metadata.php`;
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    };
    try {
      await waitForMetadata(entityId, child, () => `${stderr} ${logs()}`);
    } catch (err) {
      lastErr = err;
      const bindFailed = child.exitCode !== null && /could not bind|Address already in use/i.test(stderr + logs());
      await stop();
      if (bindFailed) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const close = async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    };
    return {
      baseUrl,
      entityId,
      ssoUrl: `${baseUrl}saml2/idp/SSOService.php`,
      get certPem() {
        return readFileSync(certFile, 'utf8');
      },
      certFile,
      metadata: async () => (await fetch(entityId)).text(),
      setSps: writeSps,
      rotateKey: newKey,
      logs,
      close,
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}

/** What the IdP's auto-submitting page posts to the SP's ACS. */
export interface IdpPost {
  action: string;
  SAMLResponse: string;
  RelayState?: string;
}

const attr = (html: string, re: RegExp): string | undefined => re.exec(html)?.[1]?.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#039;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** A page the client ended on after following redirects. */
export interface IdpPage {
  url: string;
  html: string;
}

/**
 * A browser without a browser, for the IdP: a cookie jar (sent to every host it visits, which tests on
 * loopback do not mind) and manual redirects, so tests can hold what the IdP's pages would post.
 */
export class IdpClient {
  private readonly cookies = new Map<string, string>();

  /** Follows `start` through redirects (any host) and returns the page it ends on. */
  async follow(start: string, init?: RequestInit): Promise<IdpPage> {
    let current = start;
    let req: RequestInit | undefined = init;
    for (let hops = 0; hops < 10; hops++) {
      const res = await fetch(current, { ...req, redirect: 'manual', headers: { ...(req?.headers as Record<string, string>), cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
      for (const c of res.headers.getSetCookie()) {
        const pair = c.split(';')[0] ?? '';
        const i = pair.indexOf('=');
        this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location !== null) {
        current = new URL(location, current).toString();
        req = undefined;
        continue;
      }
      return { url: current, html: await res.text() };
    }
    throw new Error(`too many redirects from ${start}`);
  }

  /**
   * Signs in at the IdP as a browser would: follows `url` (an SP-initiated redirect to the IdP, or
   * IdP-initiated SSO), fills in its login form unless the IdP session is already open, and returns what its
   * auto-submitting page would POST to the SP (the test decides whether, when and how to post it).
   */
  async login(url: string, username: string, password: string): Promise<IdpPost> {
    let page = await this.follow(url);
    if (idpPost(page) === undefined) {
      const authState = attr(page.html, /name="AuthState" value="([^"]*)"/);
      if (authState === undefined) throw new Error(`no login form at ${page.url}: ${page.html.slice(0, 800)}`);
      const body = new URLSearchParams({ AuthState: authState, username, password });
      page = await this.follow(new URL('?', page.url).toString().replace(/\?$/, ''), { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    }
    const post = idpPost(page);
    if (post === undefined) throw new Error(`the IdP did not answer with a SAML response form: ${page.html.slice(0, 800)}`);
    return post;
  }
}

/** The SAML response form of an IdP page (its auto-submitting POST to the SP), if it is one. */
export function idpPost(page: IdpPage): IdpPost | undefined {
  const SAMLResponse = attr(page.html, /name="SAMLResponse" value="([^"]*)"/);
  const action = attr(page.html, /<form[^>]*action="([^"]*)"/);
  if (SAMLResponse === undefined || action === undefined) return undefined;
  return { action, SAMLResponse, RelayState: attr(page.html, /name="RelayState" value="([^"]*)"/) };
}

/** Signs in at the IdP with a fresh cookie jar (see IdpClient.login). */
export async function loginAtIdp(url: string, username: string, password: string): Promise<IdpPost> {
  return new IdpClient().login(url, username, password);
}
