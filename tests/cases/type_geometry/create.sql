CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a point NULL,
  b geometry NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b)
SELECT seq, POINT(seq, -seq / 3), IF(seq % 2, ST_GeomFromText(CONCAT('LINESTRING(0 0, ', seq, ' 1)')), NULL)
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
