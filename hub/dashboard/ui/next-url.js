/* global URLSearchParams, location */
// Where to continue after login, read once for the login page and the app.

/**
 * The page's `?next=` when it is the hub's own /ingress/login (which opens a workspace app), else null, so
 * a crafted link cannot send a user anywhere else. The ingress sends users here when they have no session.
 */
export function nextUrl() {
  const next = new URLSearchParams(location.search).get('next');
  if (next === null) return null;
  try {
    const u = new URL(next, location.origin);
    return u.origin === location.origin && u.pathname === '/ingress/login' ? u.pathname + u.search : null;
  } catch {
    return null;
  }
}
