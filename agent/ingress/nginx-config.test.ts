import { describe, expect, it } from 'vitest';
import { nginxConfig, type IngressBody } from './nginx-config.js';

const body = (over: Partial<IngressBody> = {}): IngressBody => ({
  service: 'ingress', listen: '127.0.0.1:8088', appsDomain: 'apps.localhost', hubPublicUrl: 'http://127.0.0.1:8080', auth: 'hub', authCacheSeconds: 5, maxBodySize: '0',
  routes: [
    { host: 'a--w1.apps.localhost', workspace: 'w1', tenant: 't', app: 'a', upstream: '127.0.0.1:41000' },
    { host: 'b--w1.apps.localhost', workspace: 'w1', tenant: 't', app: 'b', upstream: '127.0.0.1:41000' },
    { host: 'a--w2.apps.localhost', workspace: 'w2', tenant: 't', app: 'a', upstream: '[fd00::5]:41001' },
  ],
  ...over,
});
const layout = { dir: '/var/lib/foundry/agent/ingress/ingress', workDir: '/run/foundry-ingress/x', hubUrl: 'https://hub.example.eu' };

describe('nginxConfig', () => {
  it('maps every host to one upstream per address and port, and answers other hosts from the default server', () => {
    const conf = nginxConfig(body(), layout);
    expect(conf).toContain('    a--w1.apps.localhost fc_app_0;\n    b--w1.apps.localhost fc_app_0;\n    a--w2.apps.localhost fc_app_1;');
    expect(conf).toContain('upstream fc_app_0 { server 127.0.0.1:41000; keepalive 32; }');
    expect(conf).toContain('upstream fc_app_1 { server [fd00::5]:41001; keepalive 32; }');
    expect(conf).toContain('listen 127.0.0.1:8088 default_server;\n    server_name _;\n    location / { return 404 "not found\\n"; }');
    expect(conf).toContain('server_name a--w1.apps.localhost b--w1.apps.localhost a--w2.apps.localhost;');
    expect(conf).toContain('proxy_pass https://hub.example.eu/ingress/authz;');
    expect(conf).toContain('proxy_cache_valid 204 403 5s;');
  });

  it('has no authorisation with auth off, and no cache with authCacheSeconds 0', () => {
    expect(nginxConfig(body({ auth: 'off' }), layout)).not.toContain('auth_request');
    const noCache = nginxConfig(body({ authCacheSeconds: 0 }), layout);
    expect(noCache).toContain('auth_request /.foundry-internal/authz;');
    expect(noCache).not.toContain('proxy_cache fc_authz;');
  });

  it('serves TLS with the certificate files when given', () => {
    const conf = nginxConfig(body({ listen: '0.0.0.0:443', tls: { certificateFile: '/etc/foundry/ingress/apps.crt', keyFile: '/etc/foundry/ingress/apps.key' } }), layout);
    expect(conf).toContain('listen 0.0.0.0:443 ssl default_server;');
    expect(conf).toContain('ssl_certificate /etc/foundry/ingress/apps.crt;');
  });

  it('refuses values that could open a directive, even if they got past the schema', () => {
    expect(() => nginxConfig(body({ routes: [{ host: 'a--w.apps.localhost; include /etc/passwd', workspace: 'w', tenant: 't', app: 'a', upstream: '127.0.0.1:1' }] }), layout)).toThrow(/ingress host .* has characters that cannot go into an nginx configuration/);
    expect(() => nginxConfig(body({ maxBodySize: '0;}' }), layout)).toThrow(/max body size/);
    expect(() => nginxConfig(body(), { ...layout, hubUrl: 'http://hub.example.eu/"x' })).not.toThrow();
    expect(() => nginxConfig(body({ hubPublicUrl: 'http://h/ x' }), layout)).toThrow(/hub public url/);
  });
});
