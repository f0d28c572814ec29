CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a time(6) NULL,
  b time(2) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b)
SELECT seq, SEC_TO_TIME(seq * 29 - 7000 + (seq % 1000) / 1000), SEC_TO_TIME(-seq * 0.01)
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
