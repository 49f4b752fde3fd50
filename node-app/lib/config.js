'use strict';
// The environment every Node stack reads (HOST, PORT, WORKERS, STACK, UPSTREAM_URL), checked once
// at startup, in the cluster primary before it forks, so a bad value stops the process with one
// message naming the variable instead of surfacing later as a confusing bind error or a 502.

/** A configuration error: the entry point prints it and exits 2. */
class ConfigError extends Error {}

function readConfig(env, { defaultStack }) {
  return {
    host: env.HOST || '127.0.0.1',
    port: readInteger(env, 'PORT', { min: 1, max: 65535, required: true }),
    workers: readInteger(env, 'WORKERS', { min: 1, max: 1024, fallback: 1 }),
    stack: env.STACK || defaultStack,
    upstreamUrl: readUpstreamUrl(env.UPSTREAM_URL),
  };
}

// Unset is allowed (only /io/upstream needs it, and answers 502 saying so); a malformed value
// is a mistake worth stopping for.
function readUpstreamUrl(text) {
  if (!text) return null;
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`UPSTREAM_URL=${text} is not a URL: expected e.g. http://127.0.0.1:41000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`UPSTREAM_URL=${text} must be an http:// or https:// URL`);
  }
  if (url.search || url.hash) throw new ConfigError(`UPSTREAM_URL=${text} must not carry a query or fragment`);
  return url;
}

function readInteger(env, name, { min, max, required, fallback }) {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (required) throw new ConfigError(`${name} is not set: expected an integer in ${min}..=${max}`);
    return fallback;
  }
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name}=${raw} is not an integer in ${min}..=${max}`);
  }
  return Number(raw);
}

module.exports = { readConfig, ConfigError };
