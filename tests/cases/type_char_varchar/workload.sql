INSERT INTO `t` (a, b, c) SELECT CONCAT('c', (@s := FLOOR(RAND() * 100000)), IF((@s := FLOOR(RAND() * 100000)) % 3 = 0, '  ', '')), CONCAT(REPEAT('ü', (@s := FLOOR(RAND() * 100000)) % 50), ' trailing '), IF((@s := FLOOR(RAND() * 100000)) % 2, 'y', '');
UPDATE `t` SET a = CONCAT('c', FLOOR(RAND() * 100000), IF(FLOOR(RAND() * 100000) % 3 = 0, '  ', '')), b = CONCAT(REPEAT('ü', FLOOR(RAND() * 100000) % 50), ' trailing '), c = IF(FLOOR(RAND() * 100000) % 2, 'y', '') WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
