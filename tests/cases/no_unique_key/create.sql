CREATE TABLE t (a int NULL, b int NULL);
INSERT INTO t SELECT seq, seq FROM seq_1_to_10;
