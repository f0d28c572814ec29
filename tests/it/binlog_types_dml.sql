SET SESSION sql_mode = '';
SET SESSION time_zone = '+00:00';
UPDATE @T@ SET ti = NULL, vc = 'changed', d1 = -0.5, tm6 = '-00:00:00.999999', e = 'a',
  j = '{"updated": true}', b64 = 0x8000000000000000 WHERE id = 1;
UPDATE @T@ SET ti = 5, tx = 'no longer null', ts = '2010-10-10 10:10:10.101010', s = 'y' WHERE id = 3;
DELETE FROM @T@ WHERE id = 4;
