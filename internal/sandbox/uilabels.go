package sandbox

import (
	"fmt"
	"strings"

	"github.com/dainostore/jobs/internal/catalog"
)

// UILabelsLanguage is the default language of the sandbox store's UI
// labels.
const UILabelsLanguage = "en"

// UILabels returns the first n of the sandbox store's UI labels (every one
// when n is 0 or more than there are, 520 or so): a storefront's, checkout's
// and account pages' texts as a real store has them, with the placeholders
// of its templates ({count}, {{name}}, %s, %1$s) and inline HTML (<strong>,
// <a href="…">), then its country names, its forms' fields and messages,
// order statuses, filters and the like. The same labels come each time, in
// the order listed.
func UILabels(n int) []catalog.UILabel {
	var labels []catalog.UILabel
	add := func(key, text string) {
		labels = append(labels, catalog.UILabel{Key: key, Language: UILabelsLanguage, Text: text,
			SourceHash: catalog.UILabelHash(text), Origin: catalog.LabelSource})
	}
	for _, line := range strings.Split(storefrontLabels, "\n") {
		if key, text, ok := strings.Cut(strings.TrimSpace(line), " = "); ok {
			add(key, text)
		}
	}
	for _, c := range countries {
		add("address.country."+strings.ToLower(c.code), c.name)
	}
	for _, f := range formFields {
		add("form."+f.key+".label", f.label)
		add("form."+f.key+".placeholder", f.placeholder)
		add("form."+f.key+".required", fmt.Sprintf("Please enter your %s.", strings.ToLower(f.label)))
		if f.invalid != "" {
			add("form."+f.key+".invalid", f.invalid)
		}
	}
	for _, list := range []struct {
		prefix string
		items  [][2]string
	}{
		{"order.status.", orderStatuses}, {"catalog.sort.", sortOptions}, {"catalog.filter.", filters},
		{"payment.method.", paymentMethods}, {"date.month.", months}, {"date.weekday.", weekdays},
	} {
		for _, item := range list.items {
			add(list.prefix+item[0], item[1])
		}
	}
	if n > 0 && n < len(labels) {
		labels = labels[:n]
	}
	return labels
}

// storefrontLabels are "key = text", one a line.
const storefrontLabels = `
header.skip_to_content = Skip to content
header.search.placeholder = Search products, brands and more
header.search.button = Search
header.search.results = {count} results for "{{query}}"
header.search.no_results = No results for <strong>{{query}}</strong>. Check the spelling or try a more general term.
header.account = Account
header.sign_in = Sign in
header.sign_out = Sign out
header.greeting = Hi, {{name}}
header.cart = Cart
header.cart.count = Cart ({count})
header.wishlist = Wishlist
header.menu.open = Open menu
header.menu.close = Close menu
header.language = Language
header.currency = Currency
header.free_shipping_banner = <strong>Free shipping</strong> on orders over %s
header.store_locator = Find a store
nav.home = Home
nav.new_arrivals = New arrivals
nav.bestsellers = Bestsellers
nav.sale = Sale
nav.women = Women
nav.men = Men
nav.kids = Kids
nav.home_living = Home & living
nav.accessories = Accessories
nav.gift_cards = Gift cards
nav.brands = Brands
nav.all_categories = All categories
nav.breadcrumb = You are here:
home.hero.title = The new season is here
home.hero.subtitle = Discover {count} new styles, made to last.
home.hero.cta = Shop now
home.featured = Featured products
home.trending = Trending this week
home.recently_viewed = Recently viewed
home.categories = Shop by category
home.newsletter.title = Get 10% off your first order
home.newsletter.text = Sign up for our newsletter and be the first to know about new arrivals and offers.
home.newsletter.button = Subscribe
home.newsletter.success = Thanks for subscribing, {{email}}! Check your inbox to confirm.
home.newsletter.consent = By subscribing you agree to our <a href="/privacy">privacy policy</a>. You can unsubscribe at any time.
catalog.title = All products
catalog.showing = Showing %1$s–%2$s of %3$s products
catalog.load_more = Load more
catalog.no_products = No products match your filters.
catalog.clear_filters = Clear all filters
catalog.filters = Filters
catalog.apply_filters = Apply filters
catalog.sort_by = Sort by
catalog.view.grid = Grid view
catalog.view.list = List view
catalog.items_per_page = Items per page
catalog.page = Page {page} of {pages}
catalog.previous = Previous
catalog.next = Next
product.add_to_cart = Add to cart
product.added_to_cart = {{product}} was added to your cart.
product.buy_now = Buy now
product.add_to_wishlist = Add to wishlist
product.remove_from_wishlist = Remove from wishlist
product.in_stock = In stock
product.low_stock = Only {count} left in stock
product.out_of_stock = Out of stock
product.notify_me = Email me when it's back
product.preorder = Pre-order: ships on {date}
product.sku = SKU: %s
product.price.from = From %s
product.price.was = Was %s
product.price.save = Save %s (%d%%)
product.price.tax_included = Tax included.
product.price.tax_excluded = Excluding tax. <a href="/shipping">Shipping</a> calculated at checkout.
product.quantity = Quantity
product.quantity.increase = Increase quantity
product.quantity.decrease = Decrease quantity
product.choose_size = Choose a size
product.choose_color = Choose a colour
product.size_guide = Size guide
product.description = Description
product.details = Details
product.materials = Materials & care
product.shipping_returns = Shipping & returns
product.delivery_estimate = Order within <strong>{hours} hours</strong> to get it by {date}.
product.free_returns = Free returns within {days} days.
product.share = Share
product.gallery.next = Next image
product.gallery.previous = Previous image
product.gallery.zoom = Click to zoom
product.related = You may also like
product.bought_together = Frequently bought together
product.reviews = Reviews
product.reviews.count = {count} reviews
product.reviews.average = Rated %.1f out of 5
product.reviews.write = Write a review
product.reviews.none = No reviews yet. Be the first to <a href="#review-form">write one</a>.
product.reviews.verified = Verified buyer
product.reviews.helpful = Was this review helpful?
product.reviews.helpful_count = {count} people found this helpful
product.reviews.thanks = Thanks, {{name}}! Your review will appear once it has been checked.
product.questions = Questions & answers
product.ask_question = Ask a question
cart.title = Your cart
cart.empty = Your cart is empty.
cart.empty.cta = <a href="/collections/all">Continue shopping</a>
cart.items = {count} items
cart.item = {count} item
cart.subtotal = Subtotal
cart.shipping = Shipping
cart.shipping.free = Free
cart.shipping.calculated = Calculated at checkout
cart.tax = Tax
cart.discount = Discount
cart.total = Total
cart.checkout = Checkout
cart.continue_shopping = Continue shopping
cart.remove = Remove
cart.update = Update cart
cart.saved_for_later = Saved for later
cart.save_for_later = Save for later
cart.move_to_cart = Move to cart
cart.free_shipping_progress = You're <strong>%s</strong> away from free shipping!
cart.free_shipping_reached = You've unlocked <strong>free shipping</strong>.
cart.coupon = Discount code
cart.coupon.apply = Apply
cart.coupon.applied = Code <strong>{code}</strong> applied: you save %s.
cart.coupon.invalid = The code {code} is not valid or has expired.
cart.coupon.remove = Remove code
cart.item_removed = {{product}} was removed from your cart. <a href="#" data-undo>Undo</a>
cart.quantity_limited = Only {count} of {{product}} can be ordered at once.
cart.gift_wrap = Add gift wrapping for %s
cart.gift_message = Gift message
cart.estimated_delivery = Estimated delivery: {date}
checkout.title = Checkout
checkout.secure = Secure checkout
checkout.step = Step {step} of {steps}
checkout.contact = Contact information
checkout.have_account = Already have an account? <a href="/login?return=/checkout">Sign in</a>
checkout.guest = Continue as guest
checkout.shipping_address = Shipping address
checkout.billing_address = Billing address
checkout.same_as_shipping = Same as shipping address
checkout.shipping_method = Shipping method
checkout.shipping_method.standard = Standard ({days} business days)
checkout.shipping_method.express = Express (next business day)
checkout.shipping_method.pickup = Pick up in store: {{store}}
checkout.payment = Payment
checkout.payment.secure = All transactions are secure and encrypted.
checkout.payment.card_ending = Card ending in %s
checkout.payment.failed = Your payment could not be processed. Please try another card or <a href="/contact">contact us</a>.
checkout.review = Review your order
checkout.place_order = Place order
checkout.pay_now = Pay %s now
checkout.processing = Processing your order…
checkout.terms = I agree to the <a href="/terms">terms and conditions</a> and the <a href="/privacy">privacy policy</a>.
checkout.terms.required = Please accept the terms and conditions to continue.
checkout.order_notes = Order notes (optional)
checkout.edit = Edit
checkout.back_to_cart = Back to cart
checkout.return_to_shipping = Return to shipping
checkout.total_due = Total due today: <strong>%s</strong>
checkout.items_in_order = {count} items in your order
checkout.tax_id = VAT number (optional)
checkout.newsletter_opt_in = Email me with news and offers
checkout.age_check = I confirm that I am at least {age} years old.
checkout.address_suggestion = Did you mean <em>{{address}}</em>?
checkout.session_expired = Your session has expired. Your cart has been saved.
confirmation.title = Thank you for your order!
confirmation.order_number = Order number: <strong>#%s</strong>
confirmation.email_sent = We've sent a confirmation to {{email}}.
confirmation.greeting = Thanks, {{name}}! We're getting your order ready.
confirmation.track = Track your order
confirmation.create_account = Save your details for next time: <a href="/account/register">create an account</a>.
confirmation.delivery = Estimated delivery between {from} and {to}.
account.title = My account
account.welcome = Welcome back, {{name}}!
account.overview = Overview
account.orders = Orders
account.orders.none = You haven't placed any orders yet.
account.orders.count = You have placed {count} orders.
account.order = Order #%s
account.order.placed = Placed on {date}
account.order.total = Total: %s
account.order.view = View order
account.order.reorder = Buy again
account.order.track = Track package
account.order.cancel = Cancel order
account.order.cancel_confirm = Do you really want to cancel order #%s? This cannot be undone.
account.order.return = Return items
account.order.invoice = Download invoice
account.order.items = {count} items shipped to {{name}}
account.addresses = Addresses
account.addresses.add = Add a new address
account.addresses.default = Default address
account.addresses.set_default = Set as default
account.addresses.delete_confirm = Delete the address <em>{{address}}</em>?
account.details = Account details
account.details.saved = Your details have been saved.
account.password = Change password
account.password.changed = Your password has been changed.
account.payment_methods = Payment methods
account.payment_methods.expires = Expires %02d/%d
account.wishlist = Wishlist
account.wishlist.empty = Your wishlist is empty. Tap the heart on any product to save it here.
account.wishlist.count = {count} saved items
account.loyalty = Rewards
account.loyalty.points = You have <strong>{points} points</strong>, worth %s.
account.loyalty.next_tier = Spend %s more to reach {{tier}}.
account.notifications = Notification settings
account.delete = Delete my account
account.delete.confirm = This deletes your account and order history for good. Type <strong>DELETE</strong> to confirm.
account.member_since = Member since {year}
auth.login.title = Sign in
auth.login.button = Sign in
auth.login.remember = Remember me
auth.login.failed = The email or password you entered is incorrect.
auth.login.locked = Too many attempts. Try again in {minutes} minutes.
auth.login.no_account = New here? <a href="/account/register">Create an account</a>
auth.register.title = Create an account
auth.register.button = Create account
auth.register.success = Welcome, {{name}}! Your account has been created.
auth.register.exists = An account with {{email}} already exists. <a href="/login">Sign in</a> or <a href="/account/recover">reset your password</a>.
auth.password.forgot = Forgot your password?
auth.password.reset = Reset password
auth.password.reset_sent = If an account exists for {{email}}, you'll receive an email with a link to reset your password.
auth.password.rules = Use at least {min} characters, with a number and a letter.
auth.password.show = Show password
auth.password.hide = Hide password
auth.password.strength = Password strength: {strength}
auth.verify_email = Please verify your email address. <a href="#" data-resend>Resend the link</a>
auth.social = Or continue with %s
auth.sign_out.done = You have been signed out.
footer.about = About us
footer.careers = Careers
footer.press = Press
footer.sustainability = Sustainability
footer.help = Help & FAQ
footer.contact = Contact us
footer.shipping = Shipping information
footer.returns = Returns & exchanges
footer.track_order = Track your order
footer.size_guide = Size guide
footer.gift_cards = Gift cards
footer.terms = Terms and conditions
footer.privacy = Privacy policy
footer.cookies = Cookie settings
footer.imprint = Imprint
footer.accessibility = Accessibility
footer.follow_us = Follow us
footer.payment_methods = We accept
footer.copyright = © {year} {{store}}. All rights reserved.
footer.back_to_top = Back to top
cookies.title = We use cookies
cookies.text = We use cookies to make our site work, to analyse traffic and to personalise content. Read more in our <a href="/cookies">cookie policy</a>.
cookies.accept_all = Accept all
cookies.reject_all = Reject all
cookies.customize = Customise
cookies.necessary = Strictly necessary
cookies.analytics = Analytics
cookies.marketing = Marketing
cookies.saved = Your cookie preferences have been saved.
help.title = How can we help?
help.search = Search the help centre
help.popular = Popular questions
help.contact.chat = Chat with us
help.contact.hours = We're available {from}–{to}, Monday to Friday.
help.contact.email = Email us at %s
help.contact.phone = Call us on %s
help.response_time = We usually reply within {hours} hours.
returns.title = Start a return
returns.reason = Why are you returning this item?
returns.label_sent = Your return label has been sent to {{email}}.
returns.refund_issued = A refund of %s has been issued to your %s.
returns.window = You can return items within <strong>{days} days</strong> of delivery.
store.hours = Opening hours
store.directions = Get directions
store.distance = %.1f km away
store.open_now = Open now
store.closes_at = Closes at {time}
store.closed = Closed
giftcard.balance = Check your balance
giftcard.balance_is = Your gift card balance is <strong>%s</strong>.
giftcard.code = Gift card code
giftcard.send_to = Send to {{recipient}} on {date}
error.404.title = Page not found
error.404.text = The page you are looking for doesn't exist or has moved. <a href="/">Go to the homepage</a>
error.500.title = Something went wrong
error.500.text = We're working on it. Please try again in a few minutes.
error.offline = You appear to be offline. Check your connection.
error.generic = Sorry, something went wrong. Please try again.
error.session = Your session has expired. Please sign in again.
error.rate_limited = Too many requests. Please wait %d seconds and try again.
a11y.close = Close
a11y.loading = Loading…
a11y.required = required
a11y.new_window = (opens in a new window)
a11y.slide = Slide {current} of {total}
a11y.rating = {rating} out of 5 stars
a11y.price_range = Price range: %1$s to %2$s
a11y.quantity_for = Quantity for {{product}}
a11y.remove_item = Remove {{product}} from cart
toast.saved = Saved.
toast.copied = Copied to clipboard.
toast.undo = Undo
toast.added_to_wishlist = Added to your <a href="/account/wishlist">wishlist</a>.
toast.price_drop = Good news: {{product}} is now %s.
toast.back_in_stock = {{product}} is back in stock.
email.order_shipped.subject = Your order #%s is on its way
email.order_shipped.body = Hi {{name}},<br>your order has shipped with {{carrier}}. Track it <a href="{{tracking_url}}">here</a>.
email.abandoned_cart.subject = You left something behind, {{name}}
email.abandoned_cart.body = The {count} items in your cart are waiting for you. <a href="{{cart_url}}">Return to your cart</a>
email.review_request.subject = How was your {{product}}?
`

type country struct{ code, name string }

var countries = []country{
	{"AR", "Argentina"}, {"AU", "Australia"}, {"AT", "Austria"}, {"BE", "Belgium"}, {"BR", "Brazil"}, {"BG", "Bulgaria"},
	{"CA", "Canada"}, {"CL", "Chile"}, {"CN", "China"}, {"CO", "Colombia"}, {"HR", "Croatia"}, {"CY", "Cyprus"},
	{"CZ", "Czech Republic"}, {"DK", "Denmark"}, {"EG", "Egypt"}, {"EE", "Estonia"}, {"FI", "Finland"}, {"FR", "France"},
	{"DE", "Germany"}, {"GR", "Greece"}, {"HK", "Hong Kong"}, {"HU", "Hungary"}, {"IS", "Iceland"}, {"IN", "India"},
	{"ID", "Indonesia"}, {"IE", "Ireland"}, {"IL", "Israel"}, {"IT", "Italy"}, {"JP", "Japan"}, {"KE", "Kenya"},
	{"KR", "South Korea"}, {"LV", "Latvia"}, {"LT", "Lithuania"}, {"LU", "Luxembourg"}, {"MY", "Malaysia"}, {"MT", "Malta"},
	{"MX", "Mexico"}, {"MA", "Morocco"}, {"NL", "Netherlands"}, {"NZ", "New Zealand"}, {"NG", "Nigeria"}, {"NO", "Norway"},
	{"PE", "Peru"}, {"PH", "Philippines"}, {"PL", "Poland"}, {"PT", "Portugal"}, {"RO", "Romania"}, {"SA", "Saudi Arabia"},
	{"RS", "Serbia"}, {"SG", "Singapore"}, {"SK", "Slovakia"}, {"SI", "Slovenia"}, {"ZA", "South Africa"}, {"ES", "Spain"},
	{"SE", "Sweden"}, {"CH", "Switzerland"}, {"TW", "Taiwan"}, {"TH", "Thailand"}, {"TR", "Turkey"}, {"UA", "Ukraine"},
	{"AE", "United Arab Emirates"}, {"GB", "United Kingdom"}, {"US", "United States"}, {"UY", "Uruguay"}, {"VN", "Vietnam"},
}

type formField struct{ key, label, placeholder, invalid string }

var formFields = []formField{
	{"email", "Email address", "you@example.com", "Please enter a valid email address, such as name@example.com."},
	{"password", "Password", "At least 8 characters", "Your password must be at least {min} characters long."},
	{"password_confirm", "Confirm password", "Repeat your password", "The passwords do not match."},
	{"first_name", "First name", "Jane", ""},
	{"last_name", "Last name", "Doe", ""},
	{"company", "Company", "Company name (optional)", ""},
	{"address1", "Address", "Street and house number", ""},
	{"address2", "Apartment, suite, etc.", "Apartment, suite, etc. (optional)", ""},
	{"city", "City", "City", ""},
	{"postal_code", "Postal code", "Postal code", "The postal code %s is not valid for {{country}}."},
	{"state", "State / province", "Select a state", ""},
	{"country", "Country / region", "Select a country", ""},
	{"phone", "Phone", "For delivery updates", "Please enter a valid phone number, including the country code."},
	{"birthday", "Date of birth", "DD/MM/YYYY", "You must be at least {age} years old."},
	{"card_number", "Card number", "1234 1234 1234 1234", "The card number is incomplete."},
	{"card_expiry", "Expiry date", "MM / YY", "The expiry date is in the past."},
	{"card_cvc", "Security code", "CVC", "The security code must have 3 or 4 digits."},
	{"card_name", "Name on card", "As printed on the card", ""},
	{"message", "Message", "How can we help?", "Your message is too long: at most %d characters."},
	{"order_number", "Order number", "#1001", "We couldn't find an order #%s for this email address."},
	{"gift_card", "Gift card code", "XXXX-XXXX-XXXX", "This gift card has a balance of %s and expired on {date}."},
	{"review_title", "Review title", "Summarise your experience", ""},
	{"review_text", "Your review", "What did you like or dislike?", "Please write at least {min} characters."},
}

var orderStatuses = [][2]string{
	{"pending", "Pending payment"}, {"paid", "Paid"}, {"processing", "Processing"}, {"on_hold", "On hold"},
	{"packed", "Packed"}, {"shipped", "Shipped"}, {"out_for_delivery", "Out for delivery"}, {"delivered", "Delivered"},
	{"cancelled", "Cancelled"}, {"refunded", "Refunded"}, {"partially_refunded", "Partially refunded: %s"},
	{"return_requested", "Return requested"}, {"failed", "Payment failed"},
}

var sortOptions = [][2]string{
	{"featured", "Featured"}, {"best_selling", "Best selling"}, {"newest", "Newest"}, {"price_asc", "Price: low to high"},
	{"price_desc", "Price: high to low"}, {"name_asc", "Name: A to Z"}, {"name_desc", "Name: Z to A"}, {"rating", "Top rated"},
}

var filters = [][2]string{
	{"availability", "Availability"}, {"in_stock_only", "In stock only"}, {"price", "Price"},
	{"price_range", "%1$s – %2$s"}, {"size", "Size"}, {"color", "Colour"}, {"brand", "Brand"}, {"material", "Material"},
	{"rating", "Rating"}, {"rating_min", "{stars} stars & up"}, {"on_sale", "On sale"}, {"new", "New"},
	{"category", "Category"}, {"count", "{{filter}} ({count})"}, {"selected", "{count} selected"},
}

var paymentMethods = [][2]string{
	{"card", "Credit or debit card"}, {"paypal", "PayPal"}, {"apple_pay", "Apple Pay"}, {"google_pay", "Google Pay"},
	{"klarna", "Pay later with Klarna"}, {"bank_transfer", "Bank transfer"}, {"invoice", "Invoice"},
	{"gift_card", "Gift card"}, {"cash_on_delivery", "Cash on delivery (+%s)"}, {"installments", "{count} interest-free payments of %s"},
}

var months = [][2]string{
	{"01", "January"}, {"02", "February"}, {"03", "March"}, {"04", "April"}, {"05", "May"}, {"06", "June"},
	{"07", "July"}, {"08", "August"}, {"09", "September"}, {"10", "October"}, {"11", "November"}, {"12", "December"},
}

var weekdays = [][2]string{
	{"1", "Monday"}, {"2", "Tuesday"}, {"3", "Wednesday"}, {"4", "Thursday"}, {"5", "Friday"}, {"6", "Saturday"}, {"7", "Sunday"},
}
