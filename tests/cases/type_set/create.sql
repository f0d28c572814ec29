CREATE TABLE `t` (
  id int unsigned NOT NULL AUTO_INCREMENT,
  a set('x','y','z') NULL,
  b set('α','β') NOT NULL DEFAULT '',
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` (id, a, b)
SELECT seq, MAKE_SET(seq % 8, 'x', 'y', 'z'), MAKE_SET(seq % 4, 'α', 'β')
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_500) AS s;
