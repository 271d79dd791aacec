package main

import (
	"fmt"
	"math/rand"
	"strings"
)

// The generator's own name lists, written by hand for this benchmark. They are deliberately
// not taken from the detector's list (internal/phi/data): many are absent from it, so the
// recall on names measures the context rules too, not only a dictionary look-up.
var firstNames = []string{
	"Adaeze", "Aarav", "Abena", "Adriana", "Agnieszka", "Ahmed", "Aiko", "Alejandro", "Aleksander", "Amara",
	"Anjali", "Arjun", "Astrid", "Bao", "Beatriz", "Bich", "Bogdan", "Camila", "Chidi", "Chinonso",
	"Dagny", "Darnell", "Deepika", "Dmitri", "Dolores", "Efua", "Eitan", "Emeka", "Esperanza", "Farah",
	"Fatima", "Folasade", "Gareth", "Giulia", "Gustavo", "Hamza", "Hana", "Haruto", "Hyun", "Ifeoma",
	"Ingrid", "Isabela", "Jae", "Jamal", "Javier", "Joaquin", "Juniper", "Kalani", "Kateryna", "Kavya",
	"Kenji", "Kwame", "Lakshmi", "Leilani", "Linh", "Lucia", "Malik", "Mariana", "Mateo", "Mei",
	"Mohammed", "Nadia", "Nkechi", "Nikhil", "Oluwaseun", "Omar", "Oksana", "Paulo", "Priya", "Quang",
	"Rafael", "Rania", "Reza", "Rohan", "Sakura", "Santiago", "Seo-yeon", "Siobhan", "Soren", "Sunita",
	"Tadeusz", "Tamika", "Thanh", "Tomasz", "Uchenna", "Valentina", "Vikram", "Wanjiru", "Ximena", "Yara",
	"Yusuf", "Zainab", "Zoltan", "Margaret", "Robert", "Linda", "William", "Patricia", "James", "Dorothy",
	"Harold", "Gloria", "Eugene", "Bernice", "Walter", "Shirley", "Raymond", "Juanita", "Clarence", "Loretta",
}

var lastNames = []string{
	"Abernathy", "Achebe", "Adeyemi", "Agarwal", "Alvarado", "Anand", "Andersen", "Asante", "Babatunde", "Bartosz",
	"Bhattacharya", "Bianchi", "Boateng", "Castellanos", "Chakraborty", "Chukwu", "Constantin", "Dabrowski", "Delacroix", "Desai",
	"Dlamini", "Domingues", "Eze", "Fonseca", "Fujimoto", "Gallagher", "Gonzaga", "Gundersen", "Haddad", "Halvorsen",
	"Hashemi", "Hernandez", "Ibrahim", "Iwasaki", "Jankowski", "Jaramillo", "Kaminski", "Kapoor", "Kariuki", "Kowalczyk",
	"Krishnamurthy", "Lindqvist", "Lombardi", "Mahlangu", "Mbeki", "Mendoza", "Moreau", "Mukherjee", "Nakamura", "Nwosu",
	"Obi", "Okafor", "Okonkwo", "Oyelaran", "Pacheco", "Papadopoulos", "Petrovic", "Quintero", "Rahman", "Ramanathan",
	"Rasmussen", "Rosales", "Saavedra", "Sandoval", "Schwartzman", "Sepulveda", "Shevchenko", "Sokolov", "Suleiman", "Szymanski",
	"Takahashi", "Tanaka", "Thach", "Trinh", "Udeh", "Valdivia", "Vasquez", "Venkataraman", "Wojcik", "Xiong",
	"Yamamoto", "Yilmaz", "Zielinski", "Zubiri", "Whitfield", "Pemberton", "Thornbury", "Ashcroft", "Blackwood", "Featherstone",
	"Hargrove", "Kingsley", "Lockhart", "McAllister", "O'Donnell", "Prescott", "Rutherford", "Stanhope", "Underwood", "Wexler",
	"Nguyen", "Tran", "Pham", "Garcia", "Kim", "Patel", "Johnson", "Williams", "Brown", "Miller",
}

var middleInitials = "ABCDEFGHJKLMNPRSTW"

var cities = []string{
	"Springfield", "Riverside", "Fairview", "Greenville", "Bristol", "Clinton", "Georgetown", "Salem", "Madison", "Franklin",
	"Ashland", "Oak Ridge", "Cedar Falls", "Lake Forest", "Brookhaven", "Pine Bluff", "Round Rock", "Sugar Land", "Eau Claire", "Bowling Green",
	"Santa Rosa", "San Mateo", "Los Alamos", "Fort Collins", "Grand Junction", "Sioux Falls", "Council Bluffs", "Bangor", "Duluth", "Kalamazoo",
	"Tacoma", "Spokane", "Boise", "Provo", "Flagstaff", "Tucson", "Albuquerque", "El Paso", "Lubbock", "Shreveport",
	"Savannah", "Macon", "Asheville", "Roanoke", "Scranton", "Allentown", "Syracuse", "Worcester", "Hartford", "Burlington",
}

var states = []string{"IL", "CA", "TX", "NY", "OH", "PA", "WA", "OR", "GA", "NC", "MI", "MN", "WI", "CO", "AZ", "NM", "MA", "VT", "ME", "IA"}
var stateNames = []string{"Illinois", "California", "Texas", "New York", "Ohio", "Oregon", "Georgia", "Michigan", "Colorado", "Vermont"}

var streetNames = []string{
	"Maple", "Oak", "Elm", "Cedar", "Lakeview", "Hillcrest", "Sunset", "Washington", "Lincoln", "Park",
	"Willow", "Birch", "Chestnut", "Riverbend", "Meadowlark", "Magnolia", "Highland", "Prospect", "Orchard", "Juniper",
}
var streetTypes = []string{"Street", "St", "St.", "Avenue", "Ave", "Ave.", "Road", "Rd", "Drive", "Dr.", "Lane", "Ln", "Boulevard", "Blvd", "Court", "Ct", "Way", "Place"}

var counties = []string{"Cook", "Lake", "Orange", "Franklin", "Jefferson", "Washington", "Marion", "Hamilton", "Montgomery", "Kings"}

var domains = []string{"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "comcast.net", "proton.me"}
var orgDomains = []string{"northvalleyhealth.org", "stlukesmed.org", "mercyclinic.com", "riversidecare.net", "summitortho.com", "lakeshorepeds.org"}

func pick(r *rand.Rand, xs []string) string { return xs[r.Intn(len(xs))] }

func digits(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(byte('0' + r.Intn(10)))
	}
	return b.String()
}

func letters(r *rand.Rand, n int) string {
	const up = "ABCDEFGHJKLMNPRSTUVWXYZ"
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(up[r.Intn(len(up))])
	}
	return b.String()
}

func alnum(r *rand.Rand, n int) string {
	const cs = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(cs[r.Intn(len(cs))])
	}
	return b.String()
}

var monthsLong = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
var monthsShort = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func ordinal(d int) string {
	switch {
	case d%10 == 1 && d != 11:
		return fmt.Sprintf("%dst", d)
	case d%10 == 2 && d != 12:
		return fmt.Sprintf("%dnd", d)
	case d%10 == 3 && d != 13:
		return fmt.Sprintf("%drd", d)
	}
	return fmt.Sprintf("%dth", d)
}

// date renders a day in one of the formats seen in clinical notes; minYear..maxYear.
func date(r *rand.Rand, minYear, maxYear int) string {
	y := minYear + r.Intn(maxYear-minYear+1)
	m := 1 + r.Intn(12)
	d := 1 + r.Intn(28)
	switch r.Intn(11) {
	case 0:
		return fmt.Sprintf("%02d/%02d/%d", m, d, y)
	case 1:
		return fmt.Sprintf("%d/%d/%02d", m, d, y%100)
	case 2:
		return fmt.Sprintf("%d-%02d-%02d", y, m, d)
	case 3:
		return fmt.Sprintf("%s %d, %d", monthsLong[m-1], d, y)
	case 4:
		return fmt.Sprintf("%s %d, %d", monthsShort[m-1], d, y)
	case 5:
		return fmt.Sprintf("%d %s %d", d, monthsShort[m-1], y)
	case 6:
		return fmt.Sprintf("%02d-%s-%d", d, strings.ToUpper(monthsShort[m-1]), y)
	case 7:
		return fmt.Sprintf("%s %s", monthsLong[m-1], ordinal(d))
	case 8:
		return fmt.Sprintf("%d/%d", m, d)
	case 9:
		return fmt.Sprintf("%s. %d", monthsShort[m-1], d)
	default:
		return fmt.Sprintf("%d.%d.%d", m, d, y)
	}
}

func phone(r *rand.Rand) string {
	a := fmt.Sprintf("%d%s", 2+r.Intn(8), digits(r, 2))
	p := fmt.Sprintf("%d%s", 2+r.Intn(8), digits(r, 2))
	l := digits(r, 4)
	switch r.Intn(7) {
	case 0:
		return fmt.Sprintf("(%s) %s-%s", a, p, l)
	case 1:
		return fmt.Sprintf("%s-%s-%s", a, p, l)
	case 2:
		return fmt.Sprintf("%s.%s.%s", a, p, l)
	case 3:
		return fmt.Sprintf("+1 %s %s %s", a, p, l)
	case 4:
		return fmt.Sprintf("%s%s%s", a, p, l)
	case 5:
		return fmt.Sprintf("1-%s-%s-%s", a, p, l)
	default:
		return fmt.Sprintf("(%s)%s-%s", a, p, l)
	}
}

func ssn(r *rand.Rand) string {
	a := fmt.Sprintf("%d%s", 1+r.Intn(8), digits(r, 2))
	b := fmt.Sprintf("%02d", 1+r.Intn(98))
	c := fmt.Sprintf("%04d", 1+r.Intn(9998))
	switch r.Intn(3) {
	case 0:
		return a + "-" + b + "-" + c
	case 1:
		return a + " " + b + " " + c
	default:
		return a + b + c
	}
}

func mrnValue(r *rand.Rand) string {
	switch r.Intn(5) {
	case 0:
		return digits(r, 8)
	case 1:
		return digits(r, 7)
	case 2:
		return letters(r, 1) + "-" + digits(r, 7)
	case 3:
		return "00" + digits(r, 6)
	default:
		return letters(r, 2) + digits(r, 6)
	}
}

func planValue(r *rand.Rand) string {
	switch r.Intn(4) {
	case 0:
		return letters(r, 3) + digits(r, 9)
	case 1:
		return "W" + digits(r, 9)
	case 2:
		// Medicare Beneficiary Identifier layout.
		return fmt.Sprintf("%d%s%d-%s%d-%s%d%d", 1+r.Intn(9), letters(r, 1), r.Intn(10), letters(r, 2), r.Intn(10), letters(r, 2), r.Intn(10), r.Intn(10))
	default:
		return "HP-" + digits(r, 4) + "-" + digits(r, 4)
	}
}

func accountValue(r *rand.Rand) string {
	switch r.Intn(3) {
	case 0:
		return digits(r, 10)
	case 1:
		return digits(r, 4) + "-" + digits(r, 6)
	default:
		return "A" + digits(r, 8)
	}
}

func vin(r *rand.Rand) string {
	const cs = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
	var b strings.Builder
	b.WriteByte(byte('1' + r.Intn(5)))
	for i := 0; i < 16; i++ {
		b.WriteByte(cs[r.Intn(len(cs))])
	}
	return b.String()
}

func plate(r *rand.Rand) string {
	switch r.Intn(3) {
	case 0:
		return fmt.Sprintf("%d%s%s", 1+r.Intn(9), letters(r, 3), digits(r, 3))
	case 1:
		return letters(r, 3) + "-" + digits(r, 4)
	default:
		return letters(r, 3) + " " + digits(r, 3)
	}
}

func ipv4(r *rand.Rand) string {
	switch r.Intn(3) {
	case 0:
		return fmt.Sprintf("192.168.%d.%d", r.Intn(256), 1+r.Intn(254))
	case 1:
		return fmt.Sprintf("10.%d.%d.%d", r.Intn(256), r.Intn(256), 1+r.Intn(254))
	default:
		return fmt.Sprintf("%d.%d.%d.%d", 11+r.Intn(200), r.Intn(256), r.Intn(256), 1+r.Intn(254))
	}
}

func ipv6(r *rand.Rand) string {
	return fmt.Sprintf("2001:db8:%x:%x::%x", r.Intn(0xffff), r.Intn(0xffff), 1+r.Intn(0xfff))
}
