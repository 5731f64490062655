import { describe, expect, it } from 'vitest';
import { assertCommitId, isBranchName, isCommitId, isRepositoryName, isRepositoryPath } from '../../../lib/core/git-names.js';

describe('names from a payload', () => {
  it('takes 40- and 64-hex lower-case commit ids only', () => {
    expect(isCommitId('a'.repeat(40))).toBe(true);
    expect(isCommitId('0123456789abcdef'.repeat(4))).toBe(true);
    for (const bad of ['A'.repeat(40), 'a'.repeat(39), 'a'.repeat(41), '--output=/tmp/x', `${'a'.repeat(40)}\n`, 'HEAD', '', 42, undefined]) {
      expect(isCommitId(bad), String(bad)).toBe(false);
    }
    expect(() => assertCommitId('push after', '--output=x')).toThrow('push after: "--output=x" is not a commit id');
  });

  it('takes branch names git check-ref-format takes, and none that reads as an option', () => {
    for (const ok of ['main', 'release/1.2', 'feature/a-b_c', 'v1.0', 'user@host', 'ünïcode']) expect(isBranchName(ok), ok).toBe(true);
    for (const bad of [
      '-x',
      '--output=f',
      'a..b',
      'a b',
      'a~1',
      'a^',
      'a:b',
      'a?',
      'a*',
      'a[b',
      'a\\b',
      '/a',
      'a/',
      'a//b',
      '.a',
      'a/.b',
      'a.lock',
      'a/b.lock',
      'a.',
      '@',
      'a@{1}',
      'a\u0000b',
      'a\tb',
      '',
      'x'.repeat(256),
    ]) {
      expect(isBranchName(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('takes owner/name as GitHub spells it', () => {
    for (const ok of ['acme/shop', 'a/b', 'Octo-Cat/my.repo_1', 'local/demo']) expect(isRepositoryName(ok), ok).toBe(true);
    for (const bad of ['__proto__', 'constructor', 'acme', 'acme/shop/x', '../acme/shop', 'acme/..', 'acme/.', '-acme/shop', 'acme/shop.git', 'ac me/shop', 'acme/sh op', '']) {
      expect(isRepositoryName(bad), bad).toBe(false);
    }
  });

  it('takes paths inside a repository only', () => {
    for (const ok of ['driftless.yaml', 'deploy/web/cm.yaml', '.github/x']) expect(isRepositoryPath(ok), ok).toBe(true);
    for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', './a', '-x', 'a\\b', 'a\u0000']) expect(isRepositoryPath(bad), bad).toBe(false);
  });
});
