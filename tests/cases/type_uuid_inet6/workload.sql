INSERT INTO `t` (a, b) SELECT UUID(), IF((@s := FLOOR(RAND() * 100000)) % 2, CONCAT('::ffff:10.0.', (@s := FLOOR(RAND() * 100000)) % 256, '.1'), CONCAT('2001:db8::', HEX((@s := FLOOR(RAND() * 100000)))));
UPDATE `t` SET a = UUID(), b = IF(FLOOR(RAND() * 100000) % 2, CONCAT('::ffff:10.0.', FLOOR(RAND() * 100000) % 256, '.1'), CONCAT('2001:db8::', HEX(FLOOR(RAND() * 100000)))) WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
