import { isAuthorized, isLoopbackHost } from './board-auth';
import { checkBoardAccess } from './start-board';

const TOKEN = 'a-token-of-24-characters';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('board auth', () => {
  it('accepts the token as a bearer token or as the basic-auth password, whatever the user', () => {
    expect(isAuthorized(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(isAuthorized(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(isAuthorized(basic('fleet', TOKEN), TOKEN)).toBe(true);
    expect(isAuthorized(basic('', TOKEN), TOKEN)).toBe(true);
    // a password may hold colons: only the first one separates the user
    expect(isAuthorized(basic('ops', 'a:b:c:d:e:f:g:h:i'), 'a:b:c:d:e:f:g:h:i')).toBe(true);
  });

  it('refuses no header, another token, a prefix of it, the token as user name, other schemes', () => {
    expect(isAuthorized(undefined, TOKEN)).toBe(false);
    expect(isAuthorized('', TOKEN)).toBe(false);
    expect(isAuthorized(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(isAuthorized(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN)).toBe(false);
    expect(isAuthorized(basic(TOKEN, ''), TOKEN)).toBe(false);
    expect(isAuthorized(`Basic ${Buffer.from(TOKEN).toString('base64')}`, TOKEN)).toBe(false);
    expect(isAuthorized(`Digest ${TOKEN}`, TOKEN)).toBe(false);
    expect(isAuthorized(TOKEN, TOKEN)).toBe(false);
  });

  it('knows loopback hosts from those others can reach', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'].map(isLoopbackHost)).toEqual([true, true, true, true, true]);
    expect(['0.0.0.0', '::', '10.0.0.5', 'board.example', '128.0.0.1', '::ffff:10.0.0.1'].map(isLoopbackHost)).toEqual([false, false, false, false, false, false]);
  });

  it('refuses a reachable board without a token, and a short token anywhere', () => {
    expect(() => checkBoardAccess('127.0.0.1', undefined)).not.toThrow();
    expect(() => checkBoardAccess('0.0.0.0', TOKEN)).not.toThrow();
    expect(() => checkBoardAccess('0.0.0.0', undefined)).toThrow(/^refusing to listen on 0\.0\.0\.0 without FLEET_BOARD_TOKEN/);
    expect(() => checkBoardAccess('127.0.0.1', 'short')).toThrow('FLEET_BOARD_TOKEN is 5 characters long: use at least 16 (e.g. openssl rand -hex 24)');
    expect(() => checkBoardAccess('10.0.0.1', undefined)).toThrow(expect.objectContaining({ name: 'BoardConfigError', exitCode: 2 }));
  });
});
