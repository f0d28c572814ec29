INSERT INTO `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_long_nam` (v) SELECT (@s := FLOOR(RAND() * 100000));
UPDATE `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_long_nam` SET v = FLOOR(RAND() * 100000) WHERE id = FLOOR(1 + RAND() * 300);
DELETE FROM `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_long_nam` WHERE id = FLOOR(1 + RAND() * 300 * 1.2);
