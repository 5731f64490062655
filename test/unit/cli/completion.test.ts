import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, main } from '../../../lib/cli/main.js';

const script = async (shell: string) => {
  let stdout = '';
  const code = await main(['completion', shell], { stdout: (s) => (stdout += s), stderr: () => {}, cwd: tmpdir(), isTTY: false, env: {} });
  return { code, stdout };
};

const has = (bin: string): boolean => {
  try {
    execFileSync(bin, ['-c', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('driftless completion', () => {
  it.each(['bash', 'zsh'])('writes a %s script that names every command and every flag of each', async (shell) => {
    const { code, stdout } = await script(shell);
    expect(code).toBe(0);
    for (const { spec } of COMMANDS) {
      expect(stdout).toMatch(new RegExp(`\\n {4}${spec.name}\\)`));
      for (const flag of Object.keys(spec.flags)) expect(stdout).toContain(`--${flag}`);
    }
  });

  describe.skipIf(!has('bash'))('the bash script', () => {
    // GIVEN a directory to complete in, and the script sourced into bash
    const dir = mkdtempSync(join(tmpdir(), 'driftless-complete-'));
    mkdirSync(join(dir, 'shop'));
    writeFileSync(join(dir, 'kubeconfig'), '');
    const complete = async (...words: string[]) => {
      const file = join(dir, 'driftless.bash');
      writeFileSync(file, (await script('bash')).stdout);
      const quoted = words.map((w) => `'${w}'`).join(' ');
      const out = execFileSync(
        'bash',
        ['-c', `source ${file}; COMP_WORDS=(driftless ${quoted}); COMP_CWORD=${words.length}; _driftless; printf '%s\\n' "\${COMPREPLY[@]}"`],
        { cwd: dir, encoding: 'utf8' },
      );
      return out.split('\n').filter(Boolean);
    };

    it.each([
      // words after "driftless"     what is offered
      [['sy'], ['sync']],
      [[''], [...COMMANDS.map((c) => c.spec.name), '--help', '--version']],
      [['sync', '--dr'], ['--dry-run']],
      [['sync', '--repo', 'sh'], ['shop']],
      [['sync', '--repo', '=', 'sh'], ['shop']],
      [['diff', '--kubeconfig', 'kube'], ['kubeconfig']],
      [['render', 's'], ['shop']],
      [['completion', ''], ['bash', 'zsh']],
      [['help', 'dr'], ['drift']],
      [['sync', '--target', ''], []],
    ])('completes %j to %j', async (words, offered) => {
      expect(await complete(...words)).toEqual(offered);
    });

    it('offers exactly the flags a command declares, and --help', async () => {
      for (const { spec } of COMMANDS) {
        expect((await complete(spec.name, '--')).sort()).toEqual([...Object.keys(spec.flags).map((f) => `--${f}`), '--help'].sort());
      }
    });
  });

  it.skipIf(!has('zsh'))('writes a zsh script that zsh parses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftless-zsh-'));
    writeFileSync(join(dir, '_driftless'), (await script('zsh')).stdout);
    expect(() => execFileSync('zsh', ['-n', join(dir, '_driftless')], { stdio: 'pipe' })).not.toThrow();
  });
});
