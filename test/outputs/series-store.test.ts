import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeriesStore } from '../../src/outputs/prometheus/series-store.js';

const store = (maxSeries = 100, expirationMs = 60_000): SeriesStore => new SeriesStore({ maxSeries, expirationMs });

describe('the exposition endpoint’s series', () => {
  it('keeps the latest sample of each series and ignores one older than it holds', () => {
    const s = store();
    s.update(Buffer.from('m_v{h="a"} 1 1000\nm_v{h="a"} 3 3000\n'), 0);
    s.update(Buffer.from('m_v{h="a"} 2 2000\n'), 1);
    assert.equal(s.render('text').join(''), '# TYPE m_v untyped\nm_v{h="a"} 3 3000\n');
  });

  it('groups the series of a metric family together, however their reports interleave, as the text formats require', () => {
    const s = store();
    s.update(Buffer.from('a_v{h="1"} 1 1000\nb_v 2 1000\n'), 0);
    s.update(Buffer.from('a_v{h="2"} 3 1000\n'), 0);
    assert.equal(s.render('text').join(''), '# TYPE a_v untyped\na_v{h="1"} 1 1000\na_v{h="2"} 3 1000\n# TYPE b_v untyped\nb_v 2 1000\n');
  });

  it('writes OpenMetrics with timestamps in seconds, type unknown, and # EOF', () => {
    const s = store();
    s.update(Buffer.from('m_v{path="a b"} 1.5 1700000000005\n'), 0);
    assert.equal(s.render('openmetrics').join(''), '# TYPE m_v unknown\nm_v{path="a b"} 1.5 1700000000.005\n# EOF\n');
  });

  it('at max_series drops the series reported least recently, and says how many', () => {
    const s = store(2);
    s.update(Buffer.from('m_v{h="1"} 1 1\nm_v{h="2"} 1 1\n'), 0);
    s.update(Buffer.from('m_v{h="1"} 2 2\n'), 1); // h=1 reported again: h=2 is now the oldest
    assert.equal(s.update(Buffer.from('m_v{h="3"} 1 3\n'), 2), 1);
    assert.equal(s.size, 2);
    assert.equal(s.render('text').join(''), '# TYPE m_v untyped\nm_v{h="1"} 2 2\nm_v{h="3"} 1 3\n');
  });

  it('lets go of the series not reported within the expiration', () => {
    const s = store(100, 1_000);
    s.update(Buffer.from('m_v{h="1"} 1 1\nother 1 1\n'), 0);
    s.update(Buffer.from('m_v{h="2"} 1 1\n'), 800);
    assert.equal(s.expire(1_500), 2);
    assert.equal(s.render('text').join(''), '# TYPE m_v untyped\nm_v{h="2"} 1 1\n');
    assert.equal(s.expire(1_801), 1);
    assert.equal(s.size, 0);
  });
});
