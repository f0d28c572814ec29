CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a uuid NULL,
  b inet6 NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b)
SELECT seq, UUID(), IF(seq % 2, CONCAT('::ffff:10.0.', seq % 256, '.1'), CONCAT('2001:db8::', HEX(seq)))
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
