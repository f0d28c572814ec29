CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a char(10) NULL,
  b varchar(300) NULL,
  c char(1) NOT NULL DEFAULT '',
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b, c)
SELECT seq, CONCAT('c', seq, IF(seq % 3 = 0, '  ', '')), CONCAT(REPEAT('ü', seq % 50), ' trailing '), IF(seq % 2, 'y', '')
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
