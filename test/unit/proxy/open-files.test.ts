import { describe, expect, it } from 'vitest';
import { OpenFilesWatch } from '../../../proxy/open-files.js';

describe('OpenFilesWatch', () => {
  // limit 1256, reserve 256: room for 500 connections; warns at 450, re-arms below 250.
  const watch = () => {
    const warnings: number[] = [];
    return { warnings, w: new OpenFilesWatch((n) => warnings.push(n), 1256, 256) };
  };

  it('warns once as connections come within 10 % of what the limit allows', () => {
    const { warnings, w } = watch();
    for (let n = 1; n <= 500; n++) w.check(n);
    expect(warnings).toEqual([450]);
  });

  it('warns again only after falling below half', () => {
    const { warnings, w } = watch();
    w.check(450);
    w.check(300);
    w.check(460);
    w.check(249);
    w.check(455);
    expect(warnings).toEqual([450, 455]);
  });

  it('never warns without a known limit', () => {
    const warnings: number[] = [];
    const w = new OpenFilesWatch((n) => warnings.push(n), undefined);
    w.check(1e9);
    expect(warnings).toEqual([]);
  });
});
