-- Runs once when the mysql-replica container initializes: replicate from the
-- mysql service by GTID auto-positioning.
CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'mysql', SOURCE_PORT = 3306, SOURCE_USER = 'root',
    SOURCE_PASSWORD = 'livemig', SOURCE_AUTO_POSITION = 1, GET_SOURCE_PUBLIC_KEY = 1;
START REPLICA;
