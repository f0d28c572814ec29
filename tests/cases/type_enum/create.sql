CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a enum('a','b','c''q','ü','') NULL,
  b enum('x','y') NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b)
SELECT seq, ELT(1 + seq % 5, 'a', 'b', 'c''q', 'ü', ''), IF(seq % 2, 'x', 'y')
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
