import { describe, expect, it } from 'vitest';
import { dockerfileStages } from './dockerfile.ts';

describe('a Dockerfile written by an admin', () => {
  it('builds from the images its stages name, not from its own stages', () => {
    expect(
      dockerfileStages(
        [
          '# syntax comments are fine',
          'ARG FLAVOUR=plain',
          'FROM --platform=linux/amd64 studio/base:1 AS tools',
          'RUN apt-get update \\',
          ' && apt-get install -y jq',
          'from studio/node:1',
          'COPY --from=tools /usr/bin/jq /usr/local/bin/jq',
          'FROM tools',
        ].join('\n'),
      ),
    ).toEqual({ images: ['studio/base:1', 'studio/node:1'] });
  });

  it.each([
    ['RUN true', /must start with FROM/],
    ['', /must start with FROM/],
    ['FROM $BASE', /name the image itself/],
    [
      'FROM studio/base:1\nADD https://example.com/tool.tgz /opt/',
      /ADD https:\/\/example\.com\/tool\.tgz would be fetched/,
    ],
    [
      'FROM studio/base:1\nADD --chown=1000 \\\n  git@github.com:a/b.git /src',
      /ADD git@github\.com:a\/b\.git/,
    ],
  ])('refuses %j, saying why', (dockerfile, reason) => {
    expect(() => dockerfileStages(dockerfile)).toThrow(reason);
  });

  it('lets ADD take a local archive and COPY anything', () => {
    expect(
      dockerfileStages('FROM studio/base:1\nADD tools.tgz /opt/\nCOPY https.txt /x').images,
    ).toEqual(['studio/base:1']);
  });
});
