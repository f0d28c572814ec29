CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a json NULL,
  b longtext CHECK (JSON_VALID(b)),
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b)
SELECT seq, JSON_OBJECT('n', seq, 's', CONCAT('v', seq, 'é'), 'a', JSON_ARRAY(seq % 3, 1.5, NULL, TRUE)), IF(seq % 3 = 0, NULL, CONCAT('[', seq, ']'))
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
