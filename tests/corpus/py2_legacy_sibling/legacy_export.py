# Old Python 2 export script kept for reference; not used by train.py.
import cPickle
import urllib2
import MySQLdb

def export(path):
    conn = MySQLdb.connect(host="db.internal", user="ro")
    cur = conn.cursor()
    cur.execute("SELECT * FROM features")
    rows = cur.fetchall()
    print "exporting %d rows" % len(rows)
    cPickle.dump(rows, open(path, "wb"))
    urllib2.urlopen("http://hooks.internal/exported").read()

if __name__ == "__main__":
    export("features.pkl")
