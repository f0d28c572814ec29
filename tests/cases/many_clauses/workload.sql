INSERT INTO `t` (a, b, c) SELECT (@s := FLOOR(RAND() * 100000)), CONCAT('b', (@s := FLOOR(RAND() * 100000))), REPEAT('c', (@s := FLOOR(RAND() * 100000)) % 9);
UPDATE `t` SET a = FLOOR(RAND() * 100000), b = CONCAT('b', FLOOR(RAND() * 100000)), c = REPEAT('c', FLOOR(RAND() * 100000) % 9) WHERE id = FLOOR(1 + RAND() * 500);
DELETE FROM `t` WHERE id = FLOOR(1 + RAND() * 500 * 1.2);
