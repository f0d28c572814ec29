
SET time_zone = '+05:30';
INSERT INTO t (ts, dt) VALUES (NOW(6), NOW(6));
SET time_zone = 'SYSTEM';
UPDATE t SET ts = ts + INTERVAL 1 SECOND WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM t WHERE id = FLOOR(1 + RAND() * 600);
